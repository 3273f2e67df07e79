import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { commandNameIn, createProgram } from '../../src/cli/main.js';

/*
 * `mlx <command>` declares only that command on the program (the others would only cost start-up).
 * These tests check that the command word is found as commander finds it, and that a command declared
 * alone is the same command, with the same help, as in the full program.
 */

/** The help of `cmd` and of each of its subcommands, as commander prints them. */
function helpTexts(cmd: Command): string[] {
  return [cmd.helpInformation(), ...cmd.commands.flatMap(helpTexts)];
}

describe('the command table', () => {
  it('finds the command after the global options, and gives up on anything it does not read', () => {
    expect(commandNameIn(['status'])).toBe('status');
    expect(commandNameIn(['status', '--remote', '-r', 'x'])).toBe('status');
    expect(commandNameIn(['--json', '-q', '-v', '--quiet', '--verbose', 'add', 'a'])).toBe('add');
    expect(commandNameIn(['-C', 'dir', 'ls'])).toBe('ls');
    expect(commandNameIn(['--cwd', 'status', 'verify'])).toBe('verify'); // `status` is the directory
    expect(commandNameIn(['--cwd=dir', '-Cdir', 'remote', 'add'])).toBe('remote');
    for (const argv of [[], ['--help'], ['-h', 'status'], ['-V'], ['-qv', 'status'], ['--', 'status'], ['--bogus', 'status'], ['-C']]) expect(commandNameIn(argv), argv.join(' ')).toBeUndefined();
    expect(commandNameIn(['help', 'status'])).toBe('help');
  });

  it('declares only the named command, with the same options, arguments and help as in the full program', () => {
    const full = createProgram(['--help']);
    const names = full.commands.map((c) => c.name());
    expect(names).toEqual(expect.arrayContaining(['init', 'add', 'status', 'remote', 'push', 'fetch', 'pull', 'env', 'hook', 'merge-driver', 'doctor']));
    for (const name of names) {
      const alone = createProgram(['-C', '.', name, '--help']);
      expect(alone.commands.map((c) => c.name())).toEqual([name]);
      expect(helpTexts(alone.commands[0]!), name).toEqual(helpTexts(full.commands.find((c) => c.name() === name)!));
    }
  });

  it('declares every command for a word that is none of them, so commander can suggest one', () => {
    for (const argv of [['statsu'], ['help', 'status'], ['--help']]) expect(createProgram(argv).commands.length).toBe(createProgram([]).commands.length);
    expect(createProgram([]).commands.length).toBeGreaterThan(20);
  });
});
