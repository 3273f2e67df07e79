import { mlxOk } from './cli.js';
import { gitCommitAll, gitInit, tempDir, write } from './repo.js';

/**
 * A training script that logs a loss and an accuracy per step (CSV), writes a model and final
 * metrics, all from `lr` in params.yaml: deterministic, so charts of it can be compared as text.
 */
const TRAIN = `
import fs from 'node:fs';
const lr = Number(fs.readFileSync('params.yaml', 'utf8').match(/lr: (.*)/)[1]);
const rows = ['step,loss,acc'];
let loss = 2, acc = 0;
for (let s = 0; s < 200; s++) {
  loss = 0.1 + 1.9 * Math.exp(-s * lr / 5);
  acc = 1 - loss / 2;
  rows.push(s + ',' + loss.toFixed(5) + ',' + acc.toFixed(5));
}
fs.mkdirSync('out', { recursive: true });
fs.mkdirSync('logs', { recursive: true });
fs.writeFileSync('logs/history.csv', rows.join('\\n') + '\\n');
fs.writeFileSync('out/model.json', JSON.stringify({ lr, loss }));
fs.writeFileSync('out/metrics.json', JSON.stringify({ accuracy: Number(acc.toFixed(4)), loss: Number(loss.toFixed(4)) }));
`;

export const TRAIN_RUN = ['run', '-n', 'train', '-d', 'data', '-d', 'train.mjs', '-p', 'params.yaml:lr', '-o', 'out/model.json', '-M', 'out/metrics.json', '-M', 'logs/history.csv', '--', 'node', 'train.mjs'];

/**
 * A repository with one committed run per `lrs` value but the last, which is run in the work tree
 * only: so `mlx report` (base HEAD) sees a changed run and `mlx runs --all` sees them all.
 */
export async function sweepRepo(lrs: number[]): Promise<string> {
  const dir = tempDir('mlx-sweep-');
  await gitInit(dir);
  write(dir, 'train.mjs', TRAIN);
  write(dir, 'data/train.csv', 'x,y\n1,2\n3,4\n');
  mlxOk(dir, 'init');
  mlxOk(dir, 'add', 'data');
  for (const [i, lr] of lrs.entries()) {
    write(dir, 'params.yaml', `lr: ${lr}\n`);
    mlxOk(dir, ...TRAIN_RUN);
    if (i < lrs.length - 1) await gitCommitAll(dir, `train lr=${lr}`);
  }
  return dir;
}
