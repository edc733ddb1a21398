// Runs SQL blocks in order in one in-memory DuckDB session and prints, as
// JSON, the rows of each block's last statement. Input on stdin: a JSON
// array of SQL texts. Needs @duckdb/node-api on NODE_PATH; the working
// directory is where the blocks' relative paths are read from.
const { DuckDBInstance } = require('@duckdb/node-api');

(async () => {
  const blocks = JSON.parse(require('fs').readFileSync(0, 'utf8'));
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const out = [];
  for (let i = 0; i < blocks.length; i++) {
    try {
      const r = await conn.runAndReadAll(blocks[i]);
      out.push(r.getRowObjectsJson());
    } catch (e) {
      console.error(`block ${i + 1}: ${e.message}`);
      process.exit(1);
    }
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e.message); process.exit(1); });
