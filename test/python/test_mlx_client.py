"""Tests of python/mlx_client, run by test/python/mlx-client.test.ts with the machine's python3.

MLX_COMMAND names the built CLI; PYTHONPATH holds python/. The repository tests make a real git
repository with mlx in a temporary folder.
"""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

import mlx_client as mlx
from mlx_client import Mlx, MlxError, MetricsLog


def sh(cwd, *args):
    subprocess.run(list(args), cwd=cwd, check=True, capture_output=True)


class Scalar:
    """Stands for a numpy or torch scalar: a number through item()."""

    def __init__(self, value):
        self.value = value

    def item(self):
        return self.value


class SeedsTest(unittest.TestCase):
    def test_the_run_seed_and_named_seeds_come_from_the_variables_mlx_run_sets(self):
        env = {"MLX_SEED": "42", "MLX_SEED_DATA": "7", "MLX_SEED_INIT": "3", "PYTHONHASHSEED": "42"}
        self.assertEqual(mlx.seed(environ=env), 42)
        self.assertEqual(mlx.seed("data", environ=env), 7)
        self.assertEqual(mlx.seeds(environ=env), {"data": 7, "init": 3})

    def test_no_seed_given_is_none_and_no_named_seeds(self):
        self.assertIsNone(mlx.seed(environ={}))
        self.assertIsNone(mlx.seed("data", environ={"MLX_SEED": "1"}))
        self.assertEqual(mlx.seeds(environ={"MLX_SEED": "1"}), {})

    def test_a_seed_that_is_not_a_whole_number_is_an_error(self):
        with self.assertRaises(MlxError) as caught:
            mlx.seed(environ={"MLX_SEED": "4.2"})
        self.assertEqual(caught.exception.code, "EUSAGE")
        self.assertEqual(str(caught.exception), "MLX_SEED='4.2' is not a whole number of at least 0")


class MetricsLogTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mlx-py-metrics-")
        self.addCleanup(shutil.rmtree, self.dir)

    def lines(self, path):
        with open(path, encoding="utf-8") as f:
            return f.read().splitlines()

    def test_one_json_object_per_step_with_the_step_first_appended_across_logs(self):
        path = os.path.join(self.dir, "logs", "train.jsonl")
        with MetricsLog(path) as log:
            log.log(0, loss=1.5, acc=0.25)
            log.log(1, loss=float("nan"), lr=Scalar(0.01))
        mlx.log_metrics(path, 2, loss=float("inf"), phase="eval")
        self.assertEqual(self.lines(path), [
            '{"step": 0, "loss": 1.5, "acc": 0.25}',
            '{"step": 1, "loss": null, "lr": 0.01}',
            '{"step": 2, "loss": null, "phase": "eval"}',
        ])

    def test_each_line_is_on_disk_once_logged(self):
        path = os.path.join(self.dir, "live.jsonl")
        log = MetricsLog(path)
        self.addCleanup(log.close)
        log.log(5, loss=0.5)
        self.assertEqual(self.lines(path), ['{"step": 5, "loss": 0.5}'])

    def test_bad_steps_and_metrics_are_refused_and_nothing_is_written(self):
        path = os.path.join(self.dir, "bad.jsonl")
        with MetricsLog(path) as log:
            for step in (-1, 1.5, True, "3"):
                with self.assertRaisesRegex(ValueError, "step must be a whole number"):
                    log.log(step, loss=1)
            with self.assertRaisesRegex(ValueError, "log at least one metric"):
                log.log(1)
            with self.assertRaisesRegex(TypeError, "loss: .* is not a number"):
                log.log(1, loss=object())
        self.assertEqual(self.lines(path), [])


class CheckpointTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mlx-py-ckpt-")
        self.addCleanup(shutil.rmtree, self.dir)

    def read(self, path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)

    def test_metadata_of_a_file_output_goes_beside_it(self):
        out = os.path.join(self.dir, "model.ckpt")
        open(out, "wb").close()
        written = mlx.record_checkpoint(out, step=300, epoch=3, val_loss=Scalar(0.5))
        self.assertEqual(written, out + ".meta.json")
        self.assertEqual(self.read(written), {"step": 300, "epoch": 3, "val_loss": 0.5})
        self.assertEqual(sorted(os.listdir(self.dir)), ["model.ckpt", "model.ckpt.meta.json"])

    def test_metadata_of_a_directory_output_goes_inside_it_and_replaces_the_last(self):
        out = os.path.join(self.dir, "ckpt")
        os.mkdir(out)
        mlx.record_checkpoint(out, step=1)
        written = mlx.record_checkpoint(out, step=2)
        self.assertEqual(written, os.path.join(out, "meta.json"))
        self.assertEqual(self.read(written), {"step": 2})
        self.assertEqual(os.listdir(out), ["meta.json"])

    def test_no_fields_is_refused(self):
        with self.assertRaisesRegex(ValueError, "record at least one field"):
            mlx.record_checkpoint(os.path.join(self.dir, "m"))


class CommandTest(unittest.TestCase):
    def test_mlx_not_found_is_an_mlx_error_that_says_so(self):
        with self.assertRaises(MlxError) as caught:
            Mlx(command=[os.path.join(tempfile.gettempdir(), "no-such-mlx")]).params()
        self.assertEqual(caught.exception.code, "ENOMLX")
        self.assertIn("set MLX_COMMAND", str(caught.exception))

    def test_an_error_without_a_json_document_keeps_the_one_line_message(self):
        fake = ["sh", "-c", 'echo "mlx: error: it broke (hint: mend it)" >&2; exit 1', "sh"]
        with self.assertRaises(MlxError) as caught:
            Mlx(command=fake).params()
        self.assertEqual((caught.exception.code, str(caught.exception)), ("EMLX", "it broke (hint: mend it)"))


class RepositoryTest(unittest.TestCase):
    """A repository with data/ (a tracked directory) and notes.txt (a tracked file), committed, then
    changed and added again without a commit."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="mlx-py-repo-")
        cls.mlx = Mlx(cls.dir)
        cli = cls.mlx.command
        sh(cls.dir, "git", "init", "-q")
        sh(cls.dir, *cli, "init")
        os.mkdir(os.path.join(cls.dir, "data"))
        cls.write("data/labels.txt", "cat\ndog\n")
        cls.write("notes.txt", "first\n")
        cls.write("params.yaml", "train:\n  lr: 0.1  # the learning rate\n  layers: [64, 32]\nname: base\n")
        sh(cls.dir, *cli, "add", "data", "notes.txt")
        sh(cls.dir, "git", "add", "-A")
        sh(cls.dir, "git", "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-qm", "first")
        cls.write("data/labels.txt", "cat\ndog\nbird\n")
        sh(cls.dir, *cli, "add", "data")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    @classmethod
    def write(cls, rel, text):
        with open(os.path.join(cls.dir, rel), "w", encoding="utf-8") as f:
            f.write(text)

    def test_params_reads_the_yaml_file_as_mlx_parses_it(self):
        self.assertEqual(self.mlx.params(), {"train": {"lr": 0.1, "layers": [64, 32]}, "name": "base"})
        self.assertEqual(mlx.params("params.yaml", cwd=self.dir)["train"]["lr"], 0.1)

    def test_a_missing_params_file_raises_the_error_mlx_reports(self):
        with self.assertRaises(MlxError) as caught:
            self.mlx.params("nope.yaml")
        self.assertEqual(caught.exception.code, "EPATHNOTFOUND")
        self.assertEqual(str(caught.exception), "params file nope.yaml does not exist")
        self.assertEqual(caught.exception.data, {"path": "nope.yaml"})

    def test_a_file_inside_a_tracked_directory_at_a_revision_and_in_the_work_tree(self):
        with self.mlx.open_file("data/labels.txt", rev="HEAD", mode="r") as f:
            self.assertEqual(f.read(), "cat\ndog\n")
        self.assertEqual(self.mlx.read_bytes("data/labels.txt"), b"cat\ndog\nbird\n")
        self.assertEqual(mlx.read_bytes("notes.txt", rev="HEAD", cwd=self.dir), b"first\n")

    def test_no_temporary_file_is_left_behind(self):
        before = set(os.listdir(tempfile.gettempdir()))
        self.mlx.read_bytes("notes.txt")
        self.assertEqual({n for n in set(os.listdir(tempfile.gettempdir())) - before if n.startswith("mlx-cat-")}, set())

    def test_a_path_that_is_not_tracked_raises_with_mlx_s_message(self):
        with self.assertRaises(MlxError) as caught:
            self.mlx.read_bytes("data/none.txt", rev="HEAD")
        self.assertEqual(caught.exception.code, "EPATHNOTFOUND")
        self.assertEqual(str(caught.exception), "data/none.txt is not part of data at HEAD")

    def test_an_unknown_revision_raises(self):
        with self.assertRaises(MlxError) as caught:
            self.mlx.read_bytes("notes.txt", rev="no-such-tag")
        self.assertEqual(caught.exception.code, "EUNKNOWNREV")

    def test_open_file_only_reads(self):
        with self.assertRaisesRegex(ValueError, "opens for reading only"):
            self.mlx.open_file("notes.txt", mode="w")


if __name__ == "__main__":
    unittest.main()
