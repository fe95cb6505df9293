// npm oracle: the semver package (node-semver, as npm itself uses it),
// from Debian's node-semver, in its strict (non-loose) mode. See
// oracle_common.py for the protocol.
'use strict';
const semver = require('semver');

const mode = process.argv[2];
const lines = require('fs').readFileSync(0, 'utf8').split('\n');
if (lines[lines.length - 1] === '') lines.pop();
const out = [];
if (mode === 'sort') {
  const good = [];
  for (const v of lines) {
    if (semver.valid(v) === null) out.push('!\t' + v);
    else good.push(v);
  }
  good.sort(semver.compare);
  out.push(...good);
} else if (mode === 'cmp') {
  for (const l of lines) {
    const [a, b] = l.split('\t');
    out.push('<=>'[semver.compare(a, b) + 1]);
  }
} else {
  process.stderr.write('unknown mode ' + mode + '\n');
  process.exit(2);
}
process.stdout.write(out.map((s) => s + '\n').join(''));
