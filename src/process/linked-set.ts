/**
 * The members of a long-lived owner that come and go quickly — a listener's
 * connections, the streams under an idle sweep — kept in an intrusive doubly
 * linked list instead of a Set.
 *
 * Why not a Set: V8 keeps a Set's entries in a hash table that it replaces
 * (rehashes) as entries come and go, and a replaced table keeps a link to
 * its successor (for live iterators; v8 src/objects/ordered-hash-table.cc).
 * Once the owner's table is in the old generation, that chain of replaced
 * tables, and every entry each one held when it was replaced, stays
 * reachable for young-generation collections until the next full one. With
 * one Set per listener, every stream connection's sockets and state (~3.6 KB)
 * outlived all scavenges and were promoted, which filled the old generation
 * and made the full collections behind the stream latency tail (bench/README.md,
 * journal "Issue 18 (2026-12-07)"; test/process/linked-set.test.ts measures it).
 * Here a removed node drops all its links, so nothing left behind points at
 * anything young. No library: the one well-known list (yallist) is not a
 * dependency, and what matters is the property above, which this file tests.
 */

/** LinkedNode is a member's place in a LinkedSet: what `add` gives and `delete` takes. */
export interface LinkedNode<T> {
  /** value is the member (undefined once deleted). */
  readonly value: T | undefined;
}

class Node<T> implements LinkedNode<T> {
  prev: Node<T> | undefined = undefined;
  next: Node<T> | undefined = undefined;
  constructor(
    public value: T | undefined,
    public owner: LinkedSet<T> | undefined,
  ) {}
}

/** LinkedSet holds members in insertion order; add and delete are O(1) and allocate one node per member. */
export class LinkedSet<T> {
  private head: Node<T> | undefined = undefined;
  private tail: Node<T> | undefined = undefined;
  private count = 0;

  /** size is the number of members. */
  get size(): number {
    return this.count;
  }

  /** add appends `value` (a value added twice is two members) and returns its node, for delete. */
  add(value: T): LinkedNode<T> {
    const node = new Node(value, this);
    node.prev = this.tail;
    if (this.tail === undefined) this.head = node;
    else this.tail.next = node;
    this.tail = node;
    this.count++;
    return node;
  }

  /** delete removes a member by its node; false when it was already removed (deleting twice is harmless). */
  delete(handle: LinkedNode<T>): boolean {
    const node = handle as Node<T>;
    if (node.owner !== this) return false;
    if (node.prev === undefined) this.head = node.next;
    else node.prev.next = node.next;
    if (node.next === undefined) this.tail = node.prev;
    else node.next.prev = node.prev;
    // All links dropped: a deleted node that outlives its member holds nothing.
    node.prev = node.next = undefined;
    node.owner = undefined;
    node.value = undefined;
    this.count--;
    return true;
  }

  /** values is a snapshot of the members, oldest first: safe to iterate while members are added or deleted. */
  values(): T[] {
    const out: T[] = [];
    for (let n = this.head; n !== undefined; n = n.next) out.push(n.value as T);
    return out;
  }
}
