import sys, zlib
# A large valid recording made from a small one (SRC): every record before its first block
# of events, then that block's events repeated into blocks of up to 4,096 events (times
# moved on), again and again until the file has SIZE bytes. Usage: bigrec.py SRC DST SIZE
src, dst, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
b = open(src, "rb").read()
def varint(buf, i):
    v = s = 0
    while True:
        x = buf[i]; i += 1; v |= (x & 0x7F) << s; s += 7
        if x < 0x80: return v, i
def put(v):
    out = bytearray()
    while v >= 0x80: out.append((v & 0x7F) | 0x80); v >>= 7
    out.append(v); return bytes(out)
zz = lambda v: (v >> 1) ^ -(v & 1)
unzz = lambda v: (v << 1) ^ (v >> 63)
off, head, block = 12, bytearray(b[:12]), None
while off + 9 <= len(b) and block is None:
    kind, n = b[off], int.from_bytes(b[off + 1:off + 5], "little")
    if kind == 3: block = b[off + 5:off + 5 + n]
    else: head += b[off:off + 9 + n]
    off += 9 + n
_, i = varint(block, 0); count, i = varint(block, i); t0, i = varint(block, i); t1, i = varint(block, i); onsets, i = varint(block, i)
t0, t1, entries = zz(t0), zz(t1), block[i:]
# Each copy's first event comes as long after the last copy's last as that one after its
# first (its time delta is relative to the block's time before it).
m = max(1, min(4096 // count, 40000 // len(entries)))
span = t1 - t0
with open(dst, "wb") as f:
    f.write(head); written, index, k = len(head), 0, 0
    while written < size:
        start = t0 + k * (m * span + 1)
        payload = put(index) + put(count * m) + put(unzz(start)) + put(unzz(start + m * span)) + put(onsets * m) + entries * m
        rec = bytes([3]) + len(payload).to_bytes(4, "little") + payload
        rec += (zlib.crc32(rec) & 0xFFFFFFFF).to_bytes(4, "little")
        f.write(rec); written += len(rec); index += count * m; k += 1
