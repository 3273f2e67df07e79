"""mlx from a training script: params, seeds, metric logs, checkpoint metadata and tracked files.

No dependencies beyond the standard library. Everything that needs a repository goes through the
``mlx`` command with ``--json`` (the JSON it relies on is specified in spec/cli.md); the rest is plain
files and environment variables that ``mlx run`` reads and sets.

    import mlx_client as mlx

    params = mlx.params()                      # params.yaml as `mlx run -S` left it
    seed = mlx.seed()                          # --seed 42 -> 42; None without one
    with mlx.MetricsLog("metrics/train.jsonl") as log:
        for step in range(100):
            log.log(step, loss=0.1)            # {"step": 0, "loss": 0.1}, one object per line
    mlx.record_checkpoint("model.ckpt", step=100, epoch=3)
    with mlx.open_file("data/val.csv", rev="v1") as f:
        header = f.readline()

The ``mlx`` command is found as ``MLX_COMMAND`` says (split like a shell line, e.g.
``node /path/to/bin/mlx.js``), else as ``mlx`` on the PATH.
"""

import json
import math
import os
import shlex
import shutil
import subprocess
import tempfile

__all__ = [
    "MlxError",
    "Mlx",
    "params",
    "recorded_run",
    "open_file",
    "read_bytes",
    "seed",
    "seeds",
    "MetricsLog",
    "log_metrics",
    "record_checkpoint",
]

DEFAULT_PARAMS_FILE = "params.yaml"
SEED_VARIABLE = "MLX_SEED"
NAMED_SEED_PREFIX = "MLX_SEED_"


class MlxError(Exception):
    """A failure reported by mlx: ``code`` is stable (``EBADPARAMS``, ``EPATHNOTFOUND``, ...), and
    ``str(err)`` is mlx's one-line message, with its hint when it gave one."""

    def __init__(self, code, message, hint=None, data=None):
        self.code = code
        self.message = message
        self.hint = hint
        self.data = data or {}
        super().__init__(message + (" (hint: %s)" % hint if hint else ""))


class Mlx:
    """Runs ``mlx --json`` commands in ``cwd`` (default: the current directory)."""

    def __init__(self, cwd=None, command=None):
        self.cwd = cwd
        if command is None:
            command = shlex.split(os.environ.get("MLX_COMMAND", "")) or ["mlx"]
        self.command = list(command)

    def json(self, *args):
        """The JSON document ``mlx --json <args>`` prints; an :class:`MlxError` when it fails."""
        try:
            done = subprocess.run(self.command + ["--json"] + list(args), cwd=self.cwd, capture_output=True, text=True)
        except FileNotFoundError:
            raise MlxError("ENOMLX", "cannot start mlx (%s): not found" % " ".join(self.command),
                           "install mlx, or set MLX_COMMAND to the command that starts it") from None
        document = _parse(done.stdout)
        if done.returncode == 0 and isinstance(document, dict) and "error" not in document:
            return document
        error = document.get("error") if isinstance(document, dict) else None
        if isinstance(error, dict):
            raise MlxError(error.get("code", "EMLX"), error.get("message", ""), error.get("hint"), error.get("data"))
        raise MlxError("EMLX", _error_line(done.stderr) or "mlx %s exited with %d" % (args[0] if args else "", done.returncode))

    def params(self, file=DEFAULT_PARAMS_FILE):
        """The whole params file (YAML or JSON) as a dict: ``mlx params``. Inside ``mlx run`` it holds
        what the run's ``-S`` overrides set."""
        return self.json("params", file)["params"]

    def recorded_run(self, ref):
        """A recorded run (by name, id or id prefix) as ``mlx show`` prints it: ``params``,
        ``metrics``, ``seed``, ``checkpoints``, ``outs``, ..."""
        return self.json("show", ref)

    def read_bytes(self, path, rev=None):
        """The bytes of a tracked file at ``rev`` (default: the work tree's pointers)."""
        with self.open_file(path, rev) as f:
            return f.read()

    def open_file(self, path, rev=None, mode="rb", encoding=None):
        """A tracked file (or a file inside a tracked directory) as it was at ``rev``, opened for
        reading (``mode`` ``"rb"`` or ``"r"``): ``mlx cat``. The object comes from the cache, or from
        the default remote when the cache lacks it."""
        if mode not in ("rb", "r"):
            raise ValueError("open_file opens for reading only: mode 'rb' or 'r', not %r" % mode)
        folder = tempfile.mkdtemp(prefix="mlx-cat-")
        out = os.path.join(folder, "file")
        try:
            args = ["cat", "-o", out, path] + (["--rev", rev] if rev is not None else [])
            self.json(*args)
            f = open(out, mode, encoding=encoding)
        finally:
            # Open files stay readable once unlinked; the folder goes at once either way.
            shutil.rmtree(folder, ignore_errors=True)
        return f


def params(file=DEFAULT_PARAMS_FILE, cwd=None):
    """The params file as a dict (see :meth:`Mlx.params`)."""
    return Mlx(cwd).params(file)


def recorded_run(ref, cwd=None):
    """A recorded run (see :meth:`Mlx.recorded_run`)."""
    return Mlx(cwd).recorded_run(ref)


def open_file(path, rev=None, mode="rb", encoding=None, cwd=None):
    """A tracked file at a revision, open for reading (see :meth:`Mlx.open_file`)."""
    return Mlx(cwd).open_file(path, rev, mode, encoding)


def read_bytes(path, rev=None, cwd=None):
    """The bytes of a tracked file at a revision (see :meth:`Mlx.read_bytes`)."""
    return Mlx(cwd).read_bytes(path, rev)


def seed(name=None, environ=None):
    """The run's seed (``mlx run --seed 42``: ``MLX_SEED``), or the named one (``--seed data=7``:
    ``MLX_SEED_DATA``); None when ``mlx run`` was given none."""
    env = os.environ if environ is None else environ
    variable = SEED_VARIABLE if name is None else NAMED_SEED_PREFIX + name.upper()
    return _seed_value(variable, env.get(variable))


def seeds(environ=None):
    """The named seeds of the run, name -> seed (``MLX_SEED_DATA=7`` -> ``{"data": 7}``)."""
    env = os.environ if environ is None else environ
    return {k[len(NAMED_SEED_PREFIX):].lower(): _seed_value(k, v) for k, v in sorted(env.items()) if k.startswith(NAMED_SEED_PREFIX)}


class MetricsLog:
    """Appends metrics to a JSON lines file, one object per step: ``{"step": 3, "loss": 0.25}``.
    Each line is written and flushed whole, so a crash leaves every earlier step readable. A value
    that is not finite (NaN, infinity) is written as null, which JSON can hold."""

    def __init__(self, path):
        self.path = path
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        self._file = open(path, "a", encoding="utf-8")

    def log(self, step, **metrics):
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError("step must be a whole number of at least 0, got %r" % (step,))
        if not metrics:
            raise ValueError("log at least one metric, e.g. log(%d, loss=0.1)" % step)
        line = json.dumps(dict([("step", step)] + [(k, _finite(k, v)) for k, v in metrics.items()]), allow_nan=False)
        self._file.write(line + "\n")
        self._file.flush()

    def close(self):
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def log_metrics(path, step, **metrics):
    """Appends one step's metrics to the JSON lines file ``path`` (see :class:`MetricsLog`)."""
    with MetricsLog(path) as log:
        log.log(step, **metrics)


def record_checkpoint(output, **meta):
    """Writes a checkpoint's metadata where ``mlx run`` records it from: ``<output>.meta.json``
    beside a file output, ``<output>/meta.json`` inside a directory output. Written whole (a temp
    file renamed into place). Returns the metadata file's path."""
    if not meta:
        raise ValueError("record at least one field, e.g. record_checkpoint(%r, step=1000)" % (output,))
    target = os.path.join(output, "meta.json") if os.path.isdir(output) else output + ".meta.json"
    text = json.dumps({k: _finite(k, v) for k, v in meta.items()}, allow_nan=False, indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=".meta-", suffix=".tmp", dir=os.path.dirname(target) or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return target


def _finite(name, value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool, list, dict)) or value is None:
        return value
    # numpy and torch scalars know how to become a Python number.
    item = getattr(value, "item", None)
    if callable(item):
        return _finite(name, item())
    raise TypeError("%s: %r is not a number, string, bool, list or dict" % (name, value))


def _seed_value(variable, text):
    if text is None:
        return None
    if not text.isdigit():
        raise MlxError("EUSAGE", "%s=%r is not a whole number of at least 0" % (variable, text))
    return int(text)


def _parse(stdout):
    try:
        return json.loads(stdout) if stdout.strip() else None
    except ValueError:
        return None


def _error_line(stderr):
    """mlx's one error line (``mlx: error: <message> (hint: ...)``) without its prefix."""
    for line in stderr.splitlines():
        for prefix in ("mlx: error: ", "mlx: internal error: ", "error: "):
            if line.startswith(prefix):
                return line[len(prefix):]
    return stderr.strip().splitlines()[0] if stderr.strip() else None
