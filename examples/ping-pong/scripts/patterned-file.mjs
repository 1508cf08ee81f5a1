// node patterned-file.mjs <path> <blocks>: a file of 4 KiB blocks, block i = "<i, 8 digits>|"
// repeated, so that two domains can each create the same file and a misplaced page shows where.
import { closeSync, openSync, writeSync } from 'node:fs';

const [path, blocksText] = process.argv.slice(2);
const blocks = Number(blocksText);
if (!path || !Number.isInteger(blocks) || blocks < 0) {
  console.error('usage: node patterned-file.mjs <path> <blocks>');
  process.exit(2);
}
const block = Buffer.alloc(4096);
const fd = openSync(path, 'w');
for (let i = 0; i < blocks; i++) {
  block.fill(`${String(i).padStart(8, '0')}|`);
  writeSync(fd, block);
}
closeSync(fd);
