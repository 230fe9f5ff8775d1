// The localStorage journal's items are read and split into records in JS (src/js/support.js,
// journalLoad / journalIds); the wasm merges the records (src/store/journal.rs). These tests pin
// the reading rules on a stand-in Storage; durable.test.mjs covers the journal end to end.
import { test } from "node:test";
import assert from "node:assert/strict";
import { journalIds, journalLoad } from "../../src/js/support.js";

/** A Storage (length, key, getItem) over a Map, in insertion order like a browser's. */
function storage(entries) {
  const m = new Map(entries);
  return {
    get length() {
      return m.size;
    },
    key: (i) => [...m.keys()][i] ?? null,
    getItem: (k) => (m.has(k) ? m.get(k) : null),
  };
}

/** A record as the wasm writes it: `seq,length,` + the bytes as Latin-1 characters. */
const record = (seq, bytes) => `${seq},${bytes.length},${String.fromCharCode(...bytes)}`;

test("journalLoad: items in numeric order, their records in order, the next item number", () => {
  const p = "wasmqtt:ws://h:id:out:";
  const s = storage([
    [p + "10", record(7, [0, 255, 44]) + record(8, [])],
    ["other", record(1, [1])],
    [p + "9", record(5, [1, 2, 3])],
    [p + "x", record(2, [2])],
    ["wasmqtt:ws://h:id2:out:3", record(3, [3])],
  ]);
  const [next, keys, ...flat] = journalLoad(s, p);
  assert.equal(next, 11);
  assert.deepEqual(keys, [p + "9", p + "10"]);
  const pairs = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], [...flat[i + 1]]]);
  // A comma inside the bytes (44) does not end the record: its length does.
  assert.deepEqual(pairs, [
    [5, [1, 2, 3]],
    [7, [0, 255, 44]],
    [8, []],
  ]);
});

test("journalLoad: a record that does not parse ends its item, not the others", () => {
  const p = "j:out:";
  const s = storage([
    [p + "0", record(1, [1]) + "2,9,short"],
    [p + "1", record(3, [3]) + "x" + record(4, [4])],
    [p + "2", record(5, [5]) + "6,1,\u0100"], // beyond Latin-1: not bytes the wasm wrote
    [p + "3", record(7, [7])],
  ]);
  const [next, keys, ...flat] = journalLoad(s, p);
  assert.equal(next, 4);
  assert.equal(keys.length, 4);
  assert.deepEqual(
    flat.filter((_, i) => i % 2 === 0),
    [1, 3, 5, 7],
  );
});

test("journalLoad: nothing stored", () => {
  assert.deepEqual(journalLoad(storage([]), "j:out:"), [0, []]);
});

test("journalIds: the valid ids of the item, undefined without one", () => {
  const s = storage([["k", "1,65535,0,65536,x,,7,007"]]);
  assert.deepEqual(journalIds(s, "k"), [1, 65535, 7, 7]);
  assert.deepEqual(journalIds(storage([["k", ""]]), "k"), []);
  assert.equal(journalIds(s, "none"), undefined);
});
