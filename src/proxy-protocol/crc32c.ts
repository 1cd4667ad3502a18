/**
 * CRC32C (Castagnoli, the polynomial iSCSI and the PROXY protocol v2
 * PP2_TYPE_CRC32C extension use), table-driven. Headers are small (a few
 * hundred bytes at most), so a byte-at-a-time table is fast enough.
 */

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** crc32c is the CRC32C checksum of the bytes. */
export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
