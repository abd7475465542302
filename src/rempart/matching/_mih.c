/*
 * rempart.matching._mih -- exact, incremental Hamming range search over 256-bit codes.
 *
 * Owns: the in-memory index (codes, caller ids, posting lists) and the search kernels.
 * Must not: touch files, the database or Python objects other than its numpy arguments.
 *
 * Layout (see docs/matching.md for the why):
 *
 *   Index = mutable tail (<= tail_capacity items, scanned by brute force)
 *         + immutable segments (<= 2^max_segment_bits items each), merged LSM-style.
 *
 *   A segment of n items has 2^L >= n slots (L >= 4).  Slots are ordered by caller id so the
 *   id -> slot lookup is a binary search and needs no extra memory.  For each of the 16 chunks
 *   (16 bits each) the segment keeps one CSR posting table: offsets[2^b + 1] and n entries of
 *   32 bits sorted by the top b bits of chunk i.  An entry is
 *
 *       slot (32-K bits) | low (16-b) bits of chunk i | top nb bits of chunk i+1 (mod 16)
 *
 *   with b = L-4 (about 16 entries a bucket) capped at 16, nb = 12 while L <= 20.
 *
 * Search (radius r): pigeonring principle over the ring of 16 chunks.  If the total distance is
 * <= r there is a start chunk i such that, for every l, the distance over the l chunks
 * i, i+1, ..., i+l-1 is <= floor(l*r/16).  Table i therefore only has to return items with
 * d_i <= floor(r/16) and d_i + d_{i+1} <= floor(2r/16); the inline bits of chunk i+1 check the
 * second bound (on part of the bits: a lower bound of d_{i+1}) before the full code is read.
 * A verified match is reported only by the table of its *smallest* valid start, so every item
 * is reported once per query without a hash set.  When the probe count makes the tables
 * slower than a scan (large r, tiny segments) the segment is scanned by brute force instead.
 *
 * A batch of queries is searched as a join (search_tables): per (segment, table), queries are
 * sorted by bucket block so that the table is read slice by slice, each slice once for all the
 * probes that land in it, and the candidates are verified grouped by region of the codes.  The
 * threads of one search split the 16 tables (and the query range of the brute-force scans).
 *
 * Deletion: a tombstone bit per slot, checked at verification; purged when segments are
 * rebuilt (merge, or compaction once half a segment is dead).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define NCHUNK 16
#define CODE_BYTES 32
#define CODE_WORDS 4
#define MIN_SEG_BITS 4
#define MAX_SEG_BITS 24
#define MAX_THREADS 64
#define ENTRY_PAD 24 /* the SIMD scan reads 24 entries from a bucket's start, whatever its size */

#if defined(__GNUC__)
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define PREFETCH(p) __builtin_prefetch((const void *)(p), 0, 3)
#else
#define LIKELY(x) (x)
#define UNLIKELY(x) (x)
#define PREFETCH(p) ((void)0)
#endif

static inline int popc64(uint64_t x) { return __builtin_popcountll(x); }
static inline int popc32(uint32_t x) { return __builtin_popcount(x); }

/* Chunk k of a code: the 16-bit lane holding bytes 2k and 2k+1.  Any fixed bijection works for
 * Hamming distances; the little-endian lane avoids a byte swap. */
static inline uint32_t chunk_of(const uint64_t *w, int k) {
    return (uint32_t)(w[k >> 2] >> (16 * (k & 3))) & 0xFFFFu;
}


/* ------------------------------------------------------------------------------------------ */
/* Memory: big arrays come straight from mmap so freeing them returns memory to the system    */
/* (merges would otherwise fragment the heap), and ask for transparent huge pages on the       */
/* fully covered 2 MiB range: the search is random access over hundreds of MB, TLB-bound.      */

#define HUGE_SZ ((size_t)2 << 20)
#define PAGE_SZ ((size_t)4096)
#define BIG_MIN ((size_t)256 << 10)

static size_t round_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

static void *mem_alloc(size_t bytes) {
    if (bytes < BIG_MIN) return calloc(1, bytes ? bytes : 1);
    size_t len = round_up(bytes, PAGE_SZ);
    if (len < HUGE_SZ) {
        void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? NULL : p;
    }
    size_t map_len = len + HUGE_SZ;
    uint8_t *p = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    uintptr_t a = round_up((uintptr_t)p, HUGE_SZ);
    size_t head = a - (uintptr_t)p;
    if (head) munmap(p, head);
    size_t tail = map_len - head - len;
    if (tail) munmap((uint8_t *)a + len, tail);
#ifdef MADV_HUGEPAGE
    /* Only the whole huge pages: a huge page half outside the array would count in RSS. */
    madvise((void *)a, len & ~(HUGE_SZ - 1), MADV_HUGEPAGE);
#endif
    return (void *)a;
}

static void mem_free(void *p, size_t bytes) {
    if (!p) return;
    if (bytes < BIG_MIN)
        free(p);
    else
        munmap(p, round_up(bytes, PAGE_SZ));
}

/* ------------------------------------------------------------------------------------------ */
/* Stable LSD radix sort of (key, value) pairs by key, 16-bit digits, constant digits skipped. */

typedef struct {
    uint64_t key; /* int64 id with its sign bit flipped: unsigned order == signed order */
    uint32_t val;
} Pair;

static inline uint64_t id_key(int64_t id) { return (uint64_t)id ^ ((uint64_t)1 << 63); }

static int radix_sort_pairs(Pair *a, size_t n) {
    if (n < 2) return 0;
    Pair *tmp = mem_alloc(n * sizeof(Pair));
    size_t *cnt = malloc(65536 * sizeof(size_t));
    if (!tmp || !cnt) {
        mem_free(tmp, n * sizeof(Pair));
        free(cnt);
        return -1;
    }
    Pair *src = a, *dst = tmp;
    for (int shift = 0; shift < 64; shift += 16) {
        memset(cnt, 0, 65536 * sizeof(size_t));
        for (size_t i = 0; i < n; i++) cnt[(src[i].key >> shift) & 0xFFFF]++;
        if (cnt[(src[0].key >> shift) & 0xFFFF] == n) continue; /* digit constant: skip pass */
        size_t sum = 0;
        for (size_t d = 0; d < 65536; d++) {
            size_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) dst[cnt[(src[i].key >> shift) & 0xFFFF]++] = src[i];
        Pair *t = src;
        src = dst;
        dst = t;
    }
    if (src != a) memcpy(a, src, n * sizeof(Pair));
    mem_free(tmp, n * sizeof(Pair));
    free(cnt);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Segment                                                                                    */

typedef struct {
    uint32_t n;    /* slots (dead ones included) */
    uint32_t live; /* slots not tombstoned */
    int L;         /* 2^L >= n */
    int b;         /* bucket key: top b bits of the chunk */
    int low;       /* 16 - b chunk bits kept inline */
    int nb;        /* bits of the next chunk kept inline */
    int K;         /* payload bits of an entry: low + nb; the slot is entry >> K */
    uint64_t *codes;   /* n * 4 words, slot order */
    int64_t *ids64;    /* slot order, ascending; NULL when ids32 is used */
    uint32_t *ids32;   /* id - id_base when the id range fits 32 bits (halves id memory) */
    int64_t id_base;
    uint64_t *dead;    /* tombstones, one bit a slot */
    uint32_t *offsets; /* NCHUNK * (2^b + 1) */
    uint32_t *entries; /* NCHUNK * n */
} Segment;

static inline int64_t seg_id(const Segment *s, uint32_t slot) {
    return s->ids64 ? s->ids64[slot] : s->id_base + (int64_t)s->ids32[slot];
}

static inline int seg_is_dead(const Segment *s, uint32_t slot) {
    return (int)((s->dead[slot >> 6] >> (slot & 63)) & 1u);
}

static size_t seg_codes_bytes(const Segment *s) { return (size_t)s->n * CODE_BYTES; }
static size_t seg_ids_bytes(const Segment *s) {
    return (size_t)s->n * (s->ids64 ? sizeof(int64_t) : sizeof(uint32_t));
}
static size_t seg_dead_bytes(const Segment *s) { return ((size_t)s->n + 63) / 64 * 8; }
static size_t seg_off_bytes(const Segment *s) {
    return (size_t)NCHUNK * (((size_t)1 << s->b) + 1) * sizeof(uint32_t);
}
static size_t seg_ent_bytes(const Segment *s) {
    return ((size_t)NCHUNK * s->n + ENTRY_PAD) * sizeof(uint32_t);
}

static size_t seg_memory(const Segment *s) {
    return sizeof(Segment) + seg_codes_bytes(s) + seg_ids_bytes(s) + seg_dead_bytes(s) +
           seg_off_bytes(s) + seg_ent_bytes(s);
}

static void seg_free(Segment *s) {
    if (!s) return;
    mem_free(s->codes, seg_codes_bytes(s));
    if (s->ids64)
        mem_free(s->ids64, (size_t)s->n * sizeof(int64_t));
    else
        mem_free(s->ids32, (size_t)s->n * sizeof(uint32_t));
    mem_free(s->dead, seg_dead_bytes(s));
    mem_free(s->offsets, seg_off_bytes(s));
    mem_free(s->entries, seg_ent_bytes(s));
    free(s);
}

static int ceil_log2(uint64_t n) {
    int L = 0;
    while (((uint64_t)1 << L) < n) L++;
    return L;
}

/* Allocate a segment for n >= 1 items whose ids, ascending and unique, span [lo, hi].  The
 * caller fills codes and ids (seg_set_id) then calls seg_build. */
static Segment *seg_alloc(uint32_t n, int64_t lo, int64_t hi) {
    Segment *s = calloc(1, sizeof(Segment));
    if (!s) return NULL;
    s->n = n;
    s->live = n;
    s->L = ceil_log2(n) < MIN_SEG_BITS ? MIN_SEG_BITS : ceil_log2(n);
    s->b = s->L - 4 > 16 ? 16 : s->L - 4;
    s->low = 16 - s->b;
    s->nb = 32 - s->L - s->low > 16 ? 16 : 32 - s->L - s->low;
    s->K = s->low + s->nb;
    s->codes = mem_alloc(seg_codes_bytes(s));
    if ((uint64_t)hi - (uint64_t)lo <= UINT32_MAX) {
        s->id_base = lo;
        s->ids32 = mem_alloc((size_t)n * sizeof(uint32_t));
    } else {
        s->ids64 = mem_alloc((size_t)n * sizeof(int64_t));
    }
    s->dead = mem_alloc(seg_dead_bytes(s));
    s->offsets = mem_alloc(seg_off_bytes(s));
    s->entries = mem_alloc(seg_ent_bytes(s));
    if (!s->codes || !(s->ids32 || s->ids64) || !s->dead || !s->offsets || !s->entries) {
        seg_free(s);
        return NULL;
    }
    return s;
}

static inline void seg_set_id(Segment *s, uint32_t slot, int64_t id) {
    if (s->ids64)
        s->ids64[slot] = id;
    else
        s->ids32[slot] = (uint32_t)((uint64_t)id - (uint64_t)s->id_base);
}

static inline uint32_t entry_payload(const Segment *s, const uint64_t *code, int i) {
    uint32_t c = chunk_of(code, i), nx = chunk_of(code, (i + 1) & (NCHUNK - 1));
    return ((c & ((1u << s->low) - 1)) << s->nb) | (nx >> (16 - s->nb));
}

/* Counting sort of the slots by bucket key, one table per chunk. */
static int seg_build(Segment *s) {
    const uint32_t nkeys = (uint32_t)1 << s->b;
    uint32_t *pos = malloc((size_t)nkeys * sizeof(uint32_t));
    if (!pos) return -1;
    for (int i = 0; i < NCHUNK; i++) {
        uint32_t *off = s->offsets + (size_t)i * (nkeys + 1);
        uint32_t *ent = s->entries + (size_t)i * s->n;
        memset(off, 0, (size_t)(nkeys + 1) * sizeof(uint32_t));
        for (uint32_t j = 0; j < s->n; j++)
            off[(chunk_of(s->codes + 4 * (size_t)j, i) >> s->low) + 1]++;
        for (uint32_t k = 0; k < nkeys; k++) off[k + 1] += off[k];
        memcpy(pos, off, (size_t)nkeys * sizeof(uint32_t));
        for (uint32_t j = 0; j < s->n; j++) {
            const uint64_t *code = s->codes + 4 * (size_t)j;
            uint32_t key = chunk_of(code, i) >> s->low;
            ent[pos[key]++] = (j << s->K) | entry_payload(s, code, i);
        }
    }
    free(pos);
    return 0;
}

/* Slot of id in s, or -1. */
static int64_t seg_find(const Segment *s, int64_t id) {
    uint32_t lo = 0, hi = s->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int64_t v = seg_id(s, mid);
        if (v < id)
            lo = mid + 1;
        else if (v > id)
            hi = mid;
        else
            return mid;
    }
    return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Tail: unsorted small arrays plus an open-addressing id -> position table.                  */

typedef struct {
    uint32_t n, cap;
    uint64_t *codes;
    int64_t *ids;
    int64_t *hkeys;
    int32_t *hvals; /* -1: empty */
    uint32_t hmask;
} Tail;

static inline uint32_t hash_id(int64_t id, uint32_t mask) {
    return (uint32_t)(((uint64_t)id * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

static int tail_init(Tail *t, uint32_t cap) {
    memset(t, 0, sizeof(*t));
    t->cap = cap;
    uint32_t hsize = 1;
    while (hsize < 2 * cap) hsize <<= 1;
    t->hmask = hsize - 1;
    t->codes = malloc((size_t)cap * CODE_BYTES);
    t->ids = malloc((size_t)cap * sizeof(int64_t));
    t->hkeys = malloc((size_t)hsize * sizeof(int64_t));
    t->hvals = malloc((size_t)hsize * sizeof(int32_t));
    if (!t->codes || !t->ids || !t->hkeys || !t->hvals) return -1;
    for (uint32_t h = 0; h < hsize; h++) t->hvals[h] = -1;
    return 0;
}

static void tail_free(Tail *t) {
    free(t->codes);
    free(t->ids);
    free(t->hkeys);
    free(t->hvals);
    memset(t, 0, sizeof(*t));
}

static size_t tail_memory(const Tail *t) {
    return (size_t)t->cap * (CODE_BYTES + sizeof(int64_t)) +
           ((size_t)t->hmask + 1) * (sizeof(int64_t) + sizeof(int32_t));
}

static int32_t tail_find(const Tail *t, int64_t id) {
    for (uint32_t h = hash_id(id, t->hmask);; h = (h + 1) & t->hmask) {
        if (t->hvals[h] < 0) return -1;
        if (t->hkeys[h] == id) return t->hvals[h];
    }
}

static void tail_hash_set(Tail *t, int64_t id, int32_t pos) {
    uint32_t h = hash_id(id, t->hmask);
    while (t->hvals[h] >= 0 && t->hkeys[h] != id) h = (h + 1) & t->hmask;
    t->hkeys[h] = id;
    t->hvals[h] = pos;
}

/* Linear-probing deletion by backward shift: no tombstones in the hash table. */
static void tail_hash_del(Tail *t, int64_t id) {
    uint32_t h = hash_id(id, t->hmask);
    while (t->hkeys[h] != id || t->hvals[h] < 0) h = (h + 1) & t->hmask;
    uint32_t hole = h;
    for (uint32_t j = (hole + 1) & t->hmask; t->hvals[j] >= 0; j = (j + 1) & t->hmask) {
        uint32_t home = hash_id(t->hkeys[j], t->hmask);
        /* j's entry may move to the hole if its home is not in the cyclic range (hole, j]. */
        if (((j - home) & t->hmask) >= ((j - hole) & t->hmask)) {
            t->hkeys[hole] = t->hkeys[j];
            t->hvals[hole] = t->hvals[j];
            hole = j;
        }
    }
    t->hvals[hole] = -1;
}

static void tail_push(Tail *t, int64_t id, const uint8_t *code) {
    memcpy(t->codes + 4 * (size_t)t->n, code, CODE_BYTES);
    t->ids[t->n] = id;
    tail_hash_set(t, id, (int32_t)t->n);
    t->n++;
}

static int tail_remove(Tail *t, int64_t id) {
    int32_t p = tail_find(t, id);
    if (p < 0) return 0;
    uint32_t last = t->n - 1;
    tail_hash_del(t, id);
    if ((uint32_t)p != last) {
        memcpy(t->codes + 4 * (size_t)p, t->codes + 4 * (size_t)last, CODE_BYTES);
        t->ids[p] = t->ids[last];
        tail_hash_set(t, t->ids[p], p);
    }
    t->n--;
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Index object                                                                               */

typedef struct {
    PyObject_HEAD
    Segment **segs;
    int nseg, segcap;
    Tail tail;
    int max_bits;
    int64_t count;
    pthread_rwlock_t lock;
    int lock_ok;
} IndexObject;

static int64_t seg_cap(const IndexObject *ix) { return (int64_t)1 << ix->max_bits; }

static int ix_push_seg(IndexObject *ix, Segment *s) {
    if (ix->nseg == ix->segcap) {
        int nc = ix->segcap ? 2 * ix->segcap : 16;
        Segment **ns = realloc(ix->segs, (size_t)nc * sizeof(Segment *));
        if (!ns) return -1;
        ix->segs = ns;
        ix->segcap = nc;
    }
    ix->segs[ix->nseg++] = s;
    return 0;
}

static void ix_drop_seg(IndexObject *ix, int k) {
    seg_free(ix->segs[k]);
    ix->segs[k] = ix->segs[--ix->nseg];
}

/* Remove the live occurrence of each id (ascending, unique) wherever it is.  Returns how many
 * were found.  Each segment is joined by binary search or by a merge walk, whichever is less
 * work. */
static int64_t ix_remove_sorted(IndexObject *ix, const int64_t *ids, size_t m) {
    int64_t removed = 0;
    if (ix->tail.n)
        for (size_t j = 0; j < m; j++) removed += tail_remove(&ix->tail, ids[j]);
    for (int k = 0; k < ix->nseg; k++) {
        Segment *s = ix->segs[k];
        if (s->live == 0) continue;
        if ((double)m * (s->L + 1) < (double)s->n + (double)m) {
            for (size_t j = 0; j < m; j++) {
                int64_t slot = seg_find(s, ids[j]);
                if (slot >= 0 && !seg_is_dead(s, (uint32_t)slot)) {
                    s->dead[slot >> 6] |= (uint64_t)1 << (slot & 63);
                    s->live--;
                    removed++;
                }
            }
        } else {
            uint32_t slot = 0;
            for (size_t j = 0; j < m && slot < s->n; j++) {
                while (slot < s->n && seg_id(s, slot) < ids[j]) slot++;
                if (slot < s->n && seg_id(s, slot) == ids[j] && !seg_is_dead(s, slot)) {
                    s->dead[slot >> 6] |= (uint64_t)1 << (slot & 63);
                    s->live--;
                    removed++;
                }
            }
        }
    }
    ix->count -= removed;
    return removed;
}

/* Rebuild from the live items of segments a and b (b may be NULL): a merge, or a compaction. */
static Segment *seg_merge(const Segment *a, const Segment *b) {
    uint32_t n = a->live + (b ? b->live : 0);
    if (n == 0) return NULL;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    const Segment *src[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        const Segment *s = src[k];
        if (!s) continue;
        for (uint32_t j = 0; j < s->n; j++)
            if (!seg_is_dead(s, j)) {
                int64_t v = seg_id(s, j);
                lo = v < lo ? v : lo;
                break;
            }
        for (uint32_t j = s->n; j-- > 0;)
            if (!seg_is_dead(s, j)) {
                int64_t v = seg_id(s, j);
                hi = v > hi ? v : hi;
                break;
            }
    }
    Segment *out = seg_alloc(n, lo, hi);
    if (!out) return NULL;
    uint32_t i = 0, j = 0, o = 0;
    uint32_t bn = b ? b->n : 0;
    while (i < a->n || j < bn) {
        if (i < a->n && seg_is_dead(a, i)) { i++; continue; }
        if (j < bn && seg_is_dead(b, j)) { j++; continue; }
        const Segment *from;
        uint32_t slot;
        /* Live ids are unique across the index, so the two streams never tie. */
        if (j >= bn || (i < a->n && seg_id(a, i) < seg_id(b, j))) {
            from = a;
            slot = i++;
        } else {
            from = b;
            slot = j++;
        }
        memcpy(out->codes + 4 * (size_t)o, from->codes + 4 * (size_t)slot, CODE_BYTES);
        seg_set_id(out, o, seg_id(from, slot));
        o++;
    }
    if (seg_build(out) < 0) {
        seg_free(out);
        return NULL;
    }
    return out;
}

static int cmp_seg_size(const void *x, const void *y) {
    uint32_t a = (*(Segment *const *)x)->live, b = (*(Segment *const *)y)->live;
    return (a > b) - (a < b);
}

/* Keep the segment set logarithmic: drop empty segments, compact half-dead ones, and merge two
 * segments of similar size (larger < 2x smaller) while the result fits the cap.  Sealed tails
 * then merge like a binary counter, and an item is rebuilt O(log(cap / tail)) times. */
static int ix_maintain(IndexObject *ix) {
    for (int k = 0; k < ix->nseg;) {
        Segment *s = ix->segs[k];
        if (s->live == 0) {
            ix_drop_seg(ix, k);
            continue;
        }
        if ((uint64_t)s->live * 2 < s->n) {
            Segment *c = seg_merge(s, NULL);
            if (!c) return -1;
            seg_free(s);
            ix->segs[k] = c;
        }
        k++;
    }
    for (;;) {
        qsort(ix->segs, (size_t)ix->nseg, sizeof(Segment *), cmp_seg_size);
        int found = -1;
        for (int k = 0; k + 1 < ix->nseg; k++) {
            uint64_t a = ix->segs[k]->live, b = ix->segs[k + 1]->live;
            if (b < 2 * a && a + b <= (uint64_t)seg_cap(ix)) {
                found = k;
                break;
            }
        }
        if (found < 0) return 0;
        Segment *m = seg_merge(ix->segs[found], ix->segs[found + 1]);
        if (!m) return -1;
        seg_free(ix->segs[found]);
        seg_free(ix->segs[found + 1]);
        ix->segs[found] = m;
        ix->segs[found + 1] = ix->segs[--ix->nseg];
    }
}

static int cmp_pair_key(const void *x, const void *y) {
    uint64_t a = ((const Pair *)x)->key, b = ((const Pair *)y)->key;
    return (a > b) - (a < b);
}

/* Seal the tail into a segment. */
static int ix_seal(IndexObject *ix) {
    Tail *t = &ix->tail;
    if (t->n == 0) return 0;
    Pair *p = malloc((size_t)t->n * sizeof(Pair));
    if (!p) return -1;
    for (uint32_t j = 0; j < t->n; j++) p[j] = (Pair){id_key(t->ids[j]), j};
    qsort(p, t->n, sizeof(Pair), cmp_pair_key);
    Segment *s = seg_alloc(t->n, t->ids[p[0].val], t->ids[p[t->n - 1].val]);
    if (!s) {
        free(p);
        return -1;
    }
    for (uint32_t j = 0; j < t->n; j++) {
        memcpy(s->codes + 4 * (size_t)j, t->codes + 4 * (size_t)p[j].val, CODE_BYTES);
        seg_set_id(s, j, t->ids[p[j].val]);
    }
    free(p);
    if (seg_build(s) < 0 || ix_push_seg(ix, s) < 0) {
        seg_free(s);
        return -1;
    }
    t->n = 0;
    for (uint32_t h = 0; h <= t->hmask; h++) t->hvals[h] = -1;
    return ix_maintain(ix);
}

/* ------------------------------------------------------------------------------------------ */
/* Search                                                                                     */

typedef struct {
    int32_t q;
    int32_t d;
    int64_t id;
} Hit;

typedef struct {
    Hit *v;
    size_t n, cap;
    int oom;
} Hits;

static inline void hits_push(Hits *h, int32_t q, int32_t d, int64_t id) {
    if (UNLIKELY(h->n == h->cap)) {
        size_t nc = h->cap ? 2 * h->cap : 256;
        Hit *nv = realloc(h->v, nc * sizeof(Hit));
        if (!nv) {
            h->oom = 1;
            return;
        }
        h->v = nv;
        h->cap = nc;
    }
    h->v[h->n++] = (Hit){q, d, id};
}

/* Radius-dependent constants shared by every thread. */
typedef struct {
    int r;
    int t1, t2;          /* floor(r/16), floor(2r/16) */
    int ring[NCHUNK + 1]; /* ring[l] = floor(l*r/16) */
} Bounds;

static void bounds_init(Bounds *B, int r) {
    B->r = r;
    for (int l = 0; l <= NCHUNK; l++) B->ring[l] = l * r / NCHUNK;
    B->t1 = B->ring[1];
    B->t2 = B->ring[2];
}

/* Smallest start chunk whose every run of consecutive chunk distances obeys the ring bounds.
 * Exists whenever the total distance is <= r (pigeonring). */
static int canonical_start(const uint64_t *x, const Bounds *B) {
    int d[NCHUNK];
    for (int k = 0; k < NCHUNK; k++) d[k] = popc32(chunk_of(x, k));
    for (int i = 0; i < NCHUNK; i++) {
        int sum = 0, l = 1;
        for (; l <= NCHUNK; l++) {
            sum += d[(i + l - 1) & (NCHUNK - 1)];
            if (sum > B->ring[l]) break;
        }
        if (l > NCHUNK) return i;
    }
    return -1;
}

/* Which search a segment gets: the cost model's choice, or forced (tests, calibration). */
enum { STRATEGY_AUTO = 0, STRATEGY_TABLES = 1, STRATEGY_SCAN = 2 };
static int g_strategy = STRATEGY_AUTO;

/* Cost model constants, ns (see seg_use_tables). */
#define COST_PROBE 20.0
#define COST_ENTRY 0.6
#define COST_CAND 10.0
#define COST_CODE 1.5

static uint64_t binom(int n, int k) {
    if (k < 0 || k > n) return 0;
    uint64_t r = 1;
    for (int j = 1; j <= k; j++) r = r * (uint64_t)(n - k + j) / (uint64_t)j;
    return r;
}

/* Probe list of a segment's bucket width b: every b-bit mask of weight <= t1, lightest first. */
typedef struct {
    uint32_t *mask;
    uint8_t *w;
    uint32_t n;
} Probes;

static int probes_make(Probes *P, int b, int t1) {
    int tmax = t1 < b ? t1 : b;
    uint64_t total = 0;
    for (int w = 0; w <= tmax; w++) total += binom(b, w);
    P->mask = malloc(total * sizeof(uint32_t));
    P->w = malloc(total);
    P->n = 0;
    if (!P->mask || !P->w) return -1;
    for (int w = 0; w <= tmax; w++) {
        if (w == 0) {
            P->mask[P->n] = 0;
            P->w[P->n++] = 0;
            continue;
        }
        uint32_t m = (1u << w) - 1, lim = 1u << b;
        while (m < lim) {
            P->mask[P->n] = m;
            P->w[P->n++] = (uint8_t)w;
            uint32_t c = m & -m, r = m + c; /* Gosper: next mask of the same weight */
            m = (((r ^ m) >> 2) / c) | r;
        }
    }
    return 0;
}

static void probes_free(Probes *P) {
    free(P->mask);
    free(P->w);
}

/* P(Bin(n, 1/2) <= k) */
static double binom_cdf(int n, int k) {
    if (k < 0) return 0.0;
    double sum = 0.0;
    for (int j = 0; j <= k && j <= n; j++) sum += (double)binom(n, j);
    return sum / (double)((uint64_t)1 << n);
}

/* Cost model, in ns a query (calibrated on x86-64 with AVX2, random codes): the tables
 * (probes, entries filtered, candidates verified) versus a scan of every code.  The tables win
 * by far at PDQ radii; the scan takes over for large radii, where a probe list grows as
 * sum C(b, w <= r/16), and for tiny segments. */
static int seg_use_tables(const Segment *s, const Bounds *B) {
    if (g_strategy != STRATEGY_AUTO) return g_strategy == STRATEGY_TABLES;
    const int tmax = B->t1 < s->b ? B->t1 : s->b;
    const double per_bucket = (double)s->n / (double)((uint64_t)1 << s->b);
    double probes = 0, cands = 0;
    for (int w = 0; w <= tmax; w++) {
        const double nw = (double)binom(s->b, w);
        /* an entry passes if its low bits and next-chunk bits keep within both bounds */
        double pass = 0;
        for (int dl = 0; dl <= s->low && dl <= B->t1 - w; dl++)
            pass += (double)binom(s->low, dl) / (double)((uint64_t)1 << s->low) *
                    binom_cdf(s->nb, B->t2 - w - dl);
        probes += nw;
        cands += nw * per_bucket * pass;
    }
    const double cost_tables = NCHUNK * (probes * COST_PROBE + probes * per_bucket * COST_ENTRY +
                                         cands * COST_CAND);
    return cost_tables < (double)s->n * COST_CODE;
}

typedef struct {
    const IndexObject *ix;
    const uint64_t *qw; /* nq * 4 words */
    const uint16_t *qc; /* nq * 16 chunks */
    Py_ssize_t nq, q0, q1;
    int tab0, tab1;
    const Bounds *B;
    Hits hits;
} Job;

/* Brute force: every (query, code) pair, blocked so the codes stay in L1/L2. */
static void scan_codes(Job *J, const uint64_t *codes, uint32_t n, const Segment *s,
                       const int64_t *tail_ids) {
    const int r = J->B->r;
    const uint32_t BLK = 512;
    for (uint32_t s0 = 0; s0 < n; s0 += BLK) {
        uint32_t s1 = n - s0 < BLK ? n : s0 + BLK;
        for (Py_ssize_t q = J->q0; q < J->q1; q++) {
            const uint64_t *a = J->qw + 4 * q;
            for (uint32_t j = s0; j < s1; j++) {
                const uint64_t *c = codes + 4 * (size_t)j;
                /* Half the code already rules out almost every item at PDQ radii. */
                int d = popc64(a[0] ^ c[0]) + popc64(a[1] ^ c[1]);
                if (LIKELY(d > r)) continue;
                d += popc64(a[2] ^ c[2]) + popc64(a[3] ^ c[3]);
                if (UNLIKELY(d <= r)) {
                    if (s) {
                        if (seg_is_dead(s, j)) continue;
                        hits_push(&J->hits, (int32_t)q, d, seg_id(s, j));
                    } else {
                        hits_push(&J->hits, (int32_t)q, d, tail_ids[j]);
                    }
                }
            }
        }
    }
}

/* The table search treats a batch of queries as a join.  For one (segment, table) pass the
 * queries are sorted by the top bits of their bucket key ("block": 256 keys, ~16 KiB of
 * entries in a 2^20-slot segment).  Then, block by block of the table, each probe mask m is
 * applied to the queries of the one block that m maps there, so the table is visited in order,
 * each slice once, instead of at random: the tables are far larger than the caches.  The probes
 * are generated on the fly, never stored.  Candidates passing the inline filter are verified
 * one batch later, so the prefetch of their codes has time to land. */

typedef struct {
    uint32_t key;  /* the query's bucket key (top b bits of its chunk) */
    uint32_t qpay; /* the query's payload bits, aligned with an entry's */
    uint32_t qt;   /* query (relative to the pass) << 4 | table, as in Cand */
} SQ;

typedef struct {
    uint32_t slot;
    uint32_t qt; /* query (relative to the pass) << 4 | table */
} Cand;

typedef struct {
    const uint32_t *ent, *off;
    const uint64_t *codes;
    int nb, low, K;
    int t1, t2;
} ScanParams;


/* Scan the bucket key ^ mask of each query sq[0..nr), at prefix distance dp, appending the
 * (slot, query) of entries that pass both bounds to out (capacity cap).  Stops before a bucket
 * that would not fit; returns the queries done. */
static size_t scan_scalar(const ScanParams *sp, const SQ *sq, size_t nr, uint32_t mask, int dp,
                          Cand *out, size_t cap, size_t *ncand) {
    const uint32_t nbmask = (1u << sp->nb) - 1, lowmask = (1u << sp->low) - 1;
    const int nb = sp->nb, K = sp->K, lim1 = sp->t1 - dp, lim2 = sp->t2 - dp;
    const uint32_t *ent = sp->ent, *off = sp->off;
    size_t nc = *ncand, r = 0;
    for (; r < nr; r++) {
        const uint32_t k = sq[r].key ^ mask, lo = off[k], hi = off[k + 1];
        if (hi - lo > cap - nc) break;
        for (uint32_t e = lo; e < hi; e++) {
            uint32_t x = ent[e] ^ sq[r].qpay;
            int dl = popc32((x >> nb) & lowmask);
            if (dl > lim1 || dl + popc32(x & nbmask) > lim2) continue;
            out[nc++] = (Cand){ent[e] >> K, sq[r].qt};
        }
    }
    *ncand = nc;
    return r;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX2_KERNEL 1

/* Per-lane popcount of 32-bit lanes holding at most 16 bits (the payload fields): nibble
 * lookup, then the sum of the two low bytes (the high 16 bits of each lane stay 0). */
__attribute__((target("avx2"))) static inline __m256i popcnt_epi32(__m256i x) {
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1,
                                         2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i nib = _mm256_set1_epi8(0x0F);
    __m256i lo = _mm256_shuffle_epi8(lut, _mm256_and_si256(x, nib));
    __m256i hi = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), nib));
    __m256i c8 = _mm256_add_epi8(lo, hi);
    return _mm256_maddubs_epi16(c8, _mm256_set1_epi8(1));
}

/* 8 entries -> bit mask of those within both bounds.  With no low bits (the usual 2^20-slot
 * segment) one popcount and one comparison suffice. */
__attribute__((target("avx2"), always_inline)) static inline unsigned filt8(
    const uint32_t *at, __m256i qv, __m256i nbmask, __m256i lowmask, __m128i nbshift, __m256i lim1,
    __m256i lim2, int has_low) {
    const __m256i x = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)at), qv);
    __m256i pass;
    if (has_low) {
        const __m256i cn = popcnt_epi32(_mm256_and_si256(x, nbmask));
        const __m256i cl = popcnt_epi32(_mm256_and_si256(_mm256_srl_epi32(x, nbshift), lowmask));
        pass = _mm256_and_si256(_mm256_cmpgt_epi32(lim1, cl),
                                _mm256_cmpgt_epi32(lim2, _mm256_add_epi32(cn, cl)));
    } else {
        pass = _mm256_cmpgt_epi32(lim2, popcnt_epi32(_mm256_and_si256(x, nbmask)));
    }
    return (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(pass));
}

/* Entries filtered before the first loop branch: a 2^20-slot segment averages 16 a bucket, so
 * almost every bucket is done without a mispredicted loop exit. */
#define SCAN_UNROLL 24

__attribute__((target("avx2"), always_inline)) static inline size_t scan_avx2_body(
    const ScanParams *sp, const SQ *sq, size_t nr, uint32_t mask, int dp, Cand *out, size_t cap,
    size_t *ncand, int has_low) {
    const __m256i nbmask = _mm256_set1_epi32((int)((1u << sp->nb) - 1));
    const __m256i lowmask = _mm256_set1_epi32((int)((1u << sp->low) - 1));
    const __m128i nbshift = _mm_cvtsi32_si128(sp->nb);
    const __m256i lim1 = _mm256_set1_epi32(sp->t1 - dp + 1);
    const __m256i lim2 = _mm256_set1_epi32(sp->t2 - dp + 1);
    const int K = sp->K;
    const uint32_t *ent = sp->ent, *off = sp->off;
    size_t nc = *ncand, r = 0;
    /* Most buckets yield no candidate and few more than one: the first is written without a
     * branch (to a spare slot, and not counted, when there is none), the rest in a loop. */
#define EMIT(bits, base)                                                                           \
    do {                                                                                           \
        uint32_t m_ = (bits);                                                                      \
        out[nc] = (Cand){(base)[__builtin_ctz(m_ | 1u << 23)] >> K, sq[r].qt};                     \
        nc += m_ != 0;                                                                             \
        for (m_ &= m_ - 1; UNLIKELY(m_); m_ &= m_ - 1)                                             \
            out[nc++] = (Cand){(base)[__builtin_ctz(m_)] >> K, sq[r].qt};                          \
    } while (0)
    for (; r < nr; r++) {
        const uint32_t k = sq[r].key ^ mask, lo = off[k], n = off[k + 1] - lo;
        if (n + 1 > cap - nc) break; /* + 1: the spare slot */
        const __m256i qv = _mm256_set1_epi32((int)sq[r].qpay);
        const uint32_t *b = ent + lo;
        uint32_t m = filt8(b, qv, nbmask, lowmask, nbshift, lim1, lim2, has_low) |
                     filt8(b + 8, qv, nbmask, lowmask, nbshift, lim1, lim2, has_low) << 8 |
                     filt8(b + 16, qv, nbmask, lowmask, nbshift, lim1, lim2, has_low) << 16;
        if (n < SCAN_UNROLL) m &= (1u << n) - 1;
        EMIT(m, b);
        for (uint32_t e = SCAN_UNROLL; e < n; e += 8) { /* a large bucket */
            m = filt8(b + e, qv, nbmask, lowmask, nbshift, lim1, lim2, has_low);
            if (n - e < 8) m &= (1u << (n - e)) - 1;
            EMIT(m, b + e);
        }
    }
#undef EMIT
    *ncand = nc;
    return r;
}

/* Same contract as scan_scalar.  Reads SCAN_UNROLL entries from a bucket's start whatever its
 * size (the entries array is padded) and masks out what lies beyond its end. */
__attribute__((target("avx2"))) static size_t scan_avx2(const ScanParams *sp, const SQ *sq,
                                                        size_t nr, uint32_t mask, int dp,
                                                        Cand *out, size_t cap, size_t *ncand) {
    if (sp->low) return scan_avx2_body(sp, sq, nr, mask, dp, out, cap, ncand, 1);
    return scan_avx2_body(sp, sq, nr, mask, dp, out, cap, ncand, 0);
}

static int cpu_has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}
#else
static int cpu_has_avx2(void) { return 0; }
#endif

static int g_use_avx2 = 0; /* set at import; tests switch it off to cover the scalar path */

static inline void verify(Job *J, const Segment *s, Py_ssize_t c0, Cand c) {
    const int table = (int)(c.qt & 15);
    const Py_ssize_t q = c0 + (Py_ssize_t)(c.qt >> 4);
    const uint64_t *a = J->qw + 4 * (size_t)q, *code = s->codes + 4 * (size_t)c.slot;
    uint64_t x[4] = {a[0] ^ code[0], a[1] ^ code[1], a[2] ^ code[2], a[3] ^ code[3]};
    int d = popc64(x[0]) + popc64(x[1]) + popc64(x[2]) + popc64(x[3]);
    if (LIKELY(d > J->B->r)) return;
    if (seg_is_dead(s, c.slot)) return;
    if (canonical_start(x, J->B) != table) return; /* another table reports it */
    hits_push(&J->hits, (int32_t)q, d, seg_id(s, c.slot));
}

/* Queries are taken in passes of at most this many (the candidates number them in 16 bits):
 * enough for each slice of a table to serve many probes. */
#define QUERIES_A_PASS 65536
#define FEW_AHEAD 8 /* probes of prefetch distance for small batches */
/* Candidates are verified region by region of the segment's codes (4096 slots, 128 KiB: L2
 * size), so each code line is fetched once for all the candidates that need it rather than
 * once per candidate, at random.  They are collected over all the tables of a pass, up to
 * CAND_MAX (16 MiB); below SORT_MIN the partition would not pay. */
#define CAND_MAX ((size_t)1 << 21)
#define SORT_MIN 4096
#define REGION_SHIFT 12
#define VERIFY_AHEAD 16

/* Per-thread scratch: sorted queries, block starts, candidates and the sort's buffer. */
typedef struct {
    SQ *sq;
    size_t cap_sq;
    uint32_t *blk;
    size_t cap_blk;
    Cand *cand, *tmp;
    size_t ncand, cap_cand, cap_tmp;
} Scratch;

static void scratch_free(Scratch *sc) {
    free(sc->sq);
    free(sc->blk);
    free(sc->cand);
    free(sc->tmp);
    memset(sc, 0, sizeof(*sc));
}

static int reserve(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    void *np = realloc(*p, need * elem);
    if (!np) return -1;
    *p = np;
    *cap = need;
    return 0;
}

/* Verify the collected candidates (pass starting at query c0), by region when many. */
static int flush(Job *J, Scratch *sc, const Segment *s, Py_ssize_t c0) {
    const size_t n = sc->ncand;
    Cand *c = sc->cand;
    if (n >= SORT_MIN) {
        /* One counting-sort pass by region. */
        if (reserve((void **)&sc->tmp, &sc->cap_tmp, n, sizeof(Cand)) < 0) return -1;
        const uint32_t nreg = (s->n >> REGION_SHIFT) + 1;
        uint32_t *cnt = calloc(nreg, sizeof(uint32_t));
        if (!cnt) return -1;
        for (size_t i = 0; i < n; i++) cnt[c[i].slot >> REGION_SHIFT]++;
        uint32_t sum = 0;
        for (uint32_t d = 0; d < nreg; d++) {
            uint32_t k = cnt[d];
            cnt[d] = sum;
            sum += k;
        }
        for (size_t i = 0; i < n; i++) sc->tmp[cnt[c[i].slot >> REGION_SHIFT]++] = c[i];
        free(cnt);
        c = sc->tmp;
    }
    for (size_t i = 0; i < n; i++) {
        if (i + VERIFY_AHEAD < n) PREFETCH(s->codes + 4 * (size_t)c[i + VERIFY_AHEAD].slot);
        verify(J, s, c0, c[i]);
    }
    sc->ncand = 0;
    return 0;
}

/* All probes (queries sq[0..nr), mask, dp) of one table: collect their candidates. */
static int scan_run(Job *J, Scratch *sc, const Segment *s, const ScanParams *sp,
                    Py_ssize_t c0, const SQ *sq, size_t nr, uint32_t mask, int dp) {
    size_t r = 0;
    for (;;) {
#ifdef HAVE_AVX2_KERNEL
        if (g_use_avx2)
            r += scan_avx2(sp, sq + r, nr - r, mask, dp, sc->cand, sc->cap_cand, &sc->ncand);
        else
#endif
            r += scan_scalar(sp, sq + r, nr - r, mask, dp, sc->cand, sc->cap_cand, &sc->ncand);
        if (r == nr) return 0;
        /* The next bucket does not fit (with the kernel's spare slot): verify what was
         * collected if the buffer would pass CAND_MAX, then grow it to fit, at least 2x. */
        uint32_t k = sq[r].key ^ mask;
        size_t bucket = sp->off[k + 1] - sp->off[k];
        if (sc->ncand > 0 && sc->ncand + bucket + 1 > CAND_MAX && flush(J, sc, s, c0) < 0)
            return -1;
        size_t need = sc->ncand + bucket + 1;
        size_t want = 2 * sc->cap_cand < CAND_MAX ? 2 * sc->cap_cand : CAND_MAX;
        if (want < need) want = need;
        if (reserve((void **)&sc->cand, &sc->cap_cand, want, sizeof(Cand)) < 0) return -1;
    }
}

static int search_tables(Job *J, Scratch *sc, const Segment *s, const Probes *P) {
    const Py_ssize_t nq = J->nq;
    const uint16_t *qc = J->qc;
    const uint32_t nkeys = (uint32_t)1 << s->b;
    const int pshift = s->b < 8 ? s->b : 8;
    const uint32_t nblk = nkeys >> pshift;
    if (reserve((void **)&sc->blk, &sc->cap_blk, (size_t)nblk + 1, sizeof(uint32_t)) < 0)
        return -1;
    if (reserve((void **)&sc->cand, &sc->cap_cand, 1024, sizeof(Cand)) < 0) return -1;

    for (Py_ssize_t c0 = 0; c0 < nq; c0 += QUERIES_A_PASS) {
        const Py_ssize_t c1 = c0 + QUERIES_A_PASS < nq ? c0 + QUERIES_A_PASS : nq;
        const size_t nr = (size_t)(c1 - c0);
        if (reserve((void **)&sc->sq, &sc->cap_sq, nr, sizeof(SQ)) < 0) return -1;
        for (int i = J->tab0; i < J->tab1; i++) {
            const int inext = (i + 1) & (NCHUNK - 1);
            const ScanParams sp = {s->entries + (size_t)i * s->n,
                                   s->offsets + (size_t)i * (nkeys + 1),
                                   s->codes,
                                   s->nb,
                                   s->low,
                                   s->K,
                                   J->B->t1,
                                   J->B->t2};
            /* Counting sort of the queries by block. */
            uint32_t *blk = sc->blk;
            memset(blk, 0, ((size_t)nblk + 1) * sizeof(uint32_t));
            for (Py_ssize_t q = c0; q < c1; q++)
                blk[((uint32_t)qc[16 * q + i] >> s->low >> pshift) + 1]++;
            for (uint32_t t = 0; t < nblk; t++) blk[t + 1] += blk[t];
            for (Py_ssize_t q = c0; q < c1; q++) {
                uint32_t c = qc[16 * q + i], key = c >> s->low;
                uint32_t qpay = ((c & ((1u << s->low) - 1)) << s->nb) |
                                ((uint32_t)qc[16 * q + inext] >> (16 - s->nb));
                uint32_t qt = (uint32_t)(q - c0) << 4 | (uint32_t)i;
                sc->sq[blk[key >> pshift]++] = (SQ){key, qpay, qt};
            }
            /* blk[t] is now the end of block t: shift back to starts. */
            memmove(blk + 1, blk, (size_t)nblk * sizeof(uint32_t));
            blk[0] = 0;
            if (nr >= nblk) {
                /* Target block by target block: mask m sends source block t ^ (m >> pshift)
                 * to block t, whose slice of the table is then hot for all of them. */
                for (uint32_t t = 0; t < nblk; t++) {
                    for (uint32_t p = 0; p < P->n; p++) {
                        uint32_t src = t ^ (P->mask[p] >> pshift);
                        if (blk[src] == blk[src + 1]) continue;
                        if (scan_run(J, sc, s, &sp, c0, sc->sq + blk[src], blk[src + 1] - blk[src],
                                     P->mask[p], P->w[p]) < 0)
                            return -1;
                    }
                }
            } else {
                /* Few queries: no slice is shared and every probe is a random access, so
                 * prefetch ahead in the flat list of (query, mask) probes: the offsets
                 * 2 * AHEAD probes ahead, the bucket AHEAD probes ahead. */
                const size_t total = nr * P->n;
#define PROBE_KEY(j) (sc->sq[(j) / P->n].key ^ P->mask[(j) % P->n])
                for (size_t j = 0; j < total; j++) {
                    if (j + 2 * FEW_AHEAD < total) PREFETCH(sp.off + PROBE_KEY(j + 2 * FEW_AHEAD));
                    if (j + FEW_AHEAD < total) {
                        const uint32_t *e = sp.ent + sp.off[PROBE_KEY(j + FEW_AHEAD)];
                        PREFETCH(e);
                        PREFETCH(e + 16);
                    }
                    if (scan_run(J, sc, s, &sp, c0, sc->sq + j / P->n, 1, P->mask[j % P->n],
                                 P->w[j % P->n]) < 0)
                        return -1;
                }
#undef PROBE_KEY
            }
        }
        if (flush(J, sc, s, c0) < 0) return -1;
    }
    return 0;
}

static void *run_job(void *arg) {
    Job *J = arg;
    const IndexObject *ix = J->ix;
    int cached_b = -1;
    Probes P = {0};
    Scratch sc;
    memset(&sc, 0, sizeof(sc));
    for (int k = 0; k < ix->nseg && !J->hits.oom; k++) {
        const Segment *s = ix->segs[k];
        if (s->live == 0) continue;
        if (!seg_use_tables(s, J->B)) {
            scan_codes(J, s->codes, s->n, s, NULL);
            continue;
        }
        if (J->tab0 == J->tab1) continue;
        if (s->b != cached_b) {
            probes_free(&P);
            if (probes_make(&P, s->b, J->B->t1) < 0) {
                J->hits.oom = 1;
                break;
            }
            cached_b = s->b;
        }
        if (search_tables(J, &sc, s, &P) < 0) J->hits.oom = 1;
    }
    probes_free(&P);
    scratch_free(&sc);
    if (ix->tail.n) scan_codes(J, ix->tail.codes, ix->tail.n, NULL, ix->tail.ids);
    return NULL;
}

static int cmp_hit(const void *x, const void *y) {
    const Hit *a = x, *b = y;
    if (a->d != b->d) return (a->d > b->d) - (a->d < b->d);
    return (a->id > b->id) - (a->id < b->id);
}

/* ------------------------------------------------------------------------------------------ */
/* Python glue                                                                                */

static void ix_lock_write(IndexObject *ix) {
    Py_BEGIN_ALLOW_THREADS pthread_rwlock_wrlock(&ix->lock);
    Py_END_ALLOW_THREADS
}

static void ix_unlock(IndexObject *ix) { pthread_rwlock_unlock(&ix->lock); }

/* A C-contiguous view of arg as a 1-D int64 or (n, 32) uint8 array; ValueError otherwise. */
static PyArrayObject *as_ids(PyObject *arg) {
    if (!PyArray_Check(arg) || PyArray_TYPE((PyArrayObject *)arg) != NPY_INT64 ||
        PyArray_NDIM((PyArrayObject *)arg) != 1) {
        PyErr_SetString(PyExc_ValueError, "ids must be a 1-D numpy array of int64");
        return NULL;
    }
    return (PyArrayObject *)PyArray_GETCONTIGUOUS((PyArrayObject *)arg);
}

static PyArrayObject *as_codes(PyObject *arg, const char *what) {
    if (!PyArray_Check(arg) || PyArray_TYPE((PyArrayObject *)arg) != NPY_UINT8 ||
        PyArray_NDIM((PyArrayObject *)arg) != 2 ||
        PyArray_DIM((PyArrayObject *)arg, 1) != CODE_BYTES) {
        PyErr_Format(PyExc_ValueError, "%s must be a numpy array of uint8 with shape (n, 32)",
                     what);
        return NULL;
    }
    return (PyArrayObject *)PyArray_GETCONTIGUOUS((PyArrayObject *)arg);
}

static int Index_init(IndexObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"tail_capacity", "max_segment_bits", NULL};
    Py_ssize_t tail_cap = 2048;
    int max_bits = 20;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|ni", kwlist, &tail_cap, &max_bits)) return -1;
    if (max_bits < MIN_SEG_BITS || max_bits > MAX_SEG_BITS) {
        PyErr_Format(PyExc_ValueError, "max_segment_bits must be in [%d, %d]", MIN_SEG_BITS,
                     MAX_SEG_BITS);
        return -1;
    }
    if (tail_cap < 1 || tail_cap > ((Py_ssize_t)1 << max_bits)) {
        PyErr_SetString(PyExc_ValueError, "tail_capacity must be in [1, 2**max_segment_bits]");
        return -1;
    }
    if (self->lock_ok) {
        PyErr_SetString(PyExc_RuntimeError, "Index is already initialised");
        return -1;
    }
    self->max_bits = max_bits;
    if (tail_init(&self->tail, (uint32_t)tail_cap) < 0) {
        tail_free(&self->tail);
        PyErr_NoMemory();
        return -1;
    }
    /* Writers first (glibc): a steady stream of searches must not starve add and remove. */
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
#ifdef __GLIBC__
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
    int lock_rc = pthread_rwlock_init(&self->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (lock_rc != 0) {
        PyErr_SetString(PyExc_RuntimeError, "cannot create the index lock");
        return -1;
    }
    self->lock_ok = 1;
    return 0;
}

static void Index_dealloc(IndexObject *self) {
    for (int k = 0; k < self->nseg; k++) seg_free(self->segs[k]);
    free(self->segs);
    tail_free(&self->tail);
    if (self->lock_ok) pthread_rwlock_destroy(&self->lock);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int check_ready(IndexObject *self) {
    if (!self->lock_ok) {
        PyErr_SetString(PyExc_RuntimeError, "Index.__init__ was not called");
        return -1;
    }
    return 0;
}

/* Sort ids ascending keeping, for repeated ids, the last position.  Returns the unique count
 * and fills order[] with positions (NULL order: already strictly ascending, identity). */
static Py_ssize_t unique_last(const int64_t *ids, Py_ssize_t n, uint32_t **order_out) {
    *order_out = NULL;
    Py_ssize_t j = 1;
    while (j < n && ids[j - 1] < ids[j]) j++;
    if (j >= n) return n;
    Pair *p = mem_alloc((size_t)n * sizeof(Pair));
    if (!p) return -1;
    for (Py_ssize_t i = 0; i < n; i++) p[i] = (Pair){id_key(ids[i]), (uint32_t)i};
    if (radix_sort_pairs(p, (size_t)n) < 0) {
        mem_free(p, (size_t)n * sizeof(Pair));
        return -1;
    }
    uint32_t *order = malloc((size_t)n * sizeof(uint32_t));
    if (!order) {
        mem_free(p, (size_t)n * sizeof(Pair));
        return -1;
    }
    Py_ssize_t m = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        /* stable sort: the last of equal keys is the latest position */
        if (i + 1 < n && p[i + 1].key == p[i].key) continue;
        order[m++] = p[i].val;
    }
    mem_free(p, (size_t)n * sizeof(Pair));
    *order_out = order;
    return m;
}

static int ix_add(IndexObject *ix, const int64_t *ids, const uint8_t *codes, Py_ssize_t n) {
    uint32_t *order = NULL;
    Py_ssize_t m = unique_last(ids, n, &order);
    if (m < 0) return -1;
#define POS(j) (order ? (Py_ssize_t)order[j] : (j))
    int rc = -1;
    int64_t replaced = 0;
    /* Replace semantics: drop any live occurrence first. */
    if (ix->count > 0) {
        int64_t *sorted = calloc((size_t)m, sizeof(int64_t));
        if (!sorted) goto out;
        for (Py_ssize_t j = 0; j < m; j++) sorted[j] = ids[POS(j)];
        replaced = ix_remove_sorted(ix, sorted, (size_t)m);
        free(sorted);
    }
    if (m >= (Py_ssize_t)ix->tail.cap) {
        /* Bulk: balanced segments straight from the sorted batch, no tail round trip. */
        int64_t cap = seg_cap(ix);
        Py_ssize_t nsegs = (Py_ssize_t)((m + cap - 1) / cap);
        Py_ssize_t start = 0;
        for (Py_ssize_t k = 0; k < nsegs; k++) {
            Py_ssize_t end = (Py_ssize_t)((int64_t)m * (k + 1) / nsegs);
            uint32_t len = (uint32_t)(end - start);
            Segment *s = seg_alloc(len, ids[POS(start)], ids[POS(end - 1)]);
            if (!s) goto out;
            for (uint32_t j = 0; j < len; j++) {
                Py_ssize_t src = POS(start + (Py_ssize_t)j);
                memcpy(s->codes + 4 * (size_t)j, codes + (size_t)src * CODE_BYTES, CODE_BYTES);
                seg_set_id(s, j, ids[src]);
            }
            if (seg_build(s) < 0 || ix_push_seg(ix, s) < 0) {
                seg_free(s);
                goto out;
            }
            ix->count += len;
            start = end;
        }
        if (ix_maintain(ix) < 0) goto out;
    } else {
        for (Py_ssize_t j = 0; j < m; j++) {
            Py_ssize_t src = POS(j);
            tail_push(&ix->tail, ids[src], codes + (size_t)src * CODE_BYTES);
            ix->count++;
            if (ix->tail.n == ix->tail.cap && ix_seal(ix) < 0) goto out;
        }
        if (replaced && ix_maintain(ix) < 0) goto out; /* compact what the replacing killed */
    }
    rc = 0;
out:
#undef POS
    free(order);
    return rc;
}

static PyObject *Index_add(IndexObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"ids", "codes", NULL};
    PyObject *ids_arg, *codes_arg;
    if (check_ready(self) < 0) return NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO", kwlist, &ids_arg, &codes_arg)) return NULL;
    PyArrayObject *ids = as_ids(ids_arg);
    if (!ids) return NULL;
    PyArrayObject *codes = as_codes(codes_arg, "codes");
    if (!codes) {
        Py_DECREF(ids);
        return NULL;
    }
    Py_ssize_t n = PyArray_DIM(ids, 0);
    if (PyArray_DIM(codes, 0) != n) {
        PyErr_SetString(PyExc_ValueError, "ids and codes must have the same length");
        goto fail;
    }
    if (n > (Py_ssize_t)UINT32_MAX || self->count + n > (int64_t)INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "too many items for one index (2**31 - 1 at most)");
        goto fail;
    }
    if (n > 0) {
        ix_lock_write(self);
        int rc = ix_add(self, PyArray_DATA(ids), PyArray_DATA(codes), n);
        ix_unlock(self);
        if (rc < 0) {
            PyErr_NoMemory();
            goto fail;
        }
    }
    Py_DECREF(ids);
    Py_DECREF(codes);
    Py_RETURN_NONE;
fail:
    Py_DECREF(ids);
    Py_DECREF(codes);
    return NULL;
}

static PyObject *Index_remove(IndexObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"ids", NULL};
    PyObject *ids_arg;
    if (check_ready(self) < 0) return NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O", kwlist, &ids_arg)) return NULL;
    PyArrayObject *ids = as_ids(ids_arg);
    if (!ids) return NULL;
    Py_ssize_t n = PyArray_DIM(ids, 0);
    const int64_t *v = PyArray_DATA(ids);
    int64_t removed = 0;
    int rc = 0;
    if (n > 0) {
        ix_lock_write(self);
        uint32_t *order = NULL;
        Py_ssize_t m = n > (Py_ssize_t)UINT32_MAX ? -1 : unique_last(v, n, &order);
        int64_t *sorted = m >= 0 ? malloc((size_t)(m ? m : 1) * sizeof(int64_t)) : NULL;
        if (!sorted) {
            rc = -1;
        } else {
            for (Py_ssize_t j = 0; j < m; j++) sorted[j] = v[order ? (Py_ssize_t)order[j] : j];
            removed = ix_remove_sorted(self, sorted, (size_t)m);
            rc = ix_maintain(self);
        }
        free(sorted);
        free(order);
        ix_unlock(self);
    }
    Py_DECREF(ids);
    if (rc < 0) return PyErr_NoMemory();
    return PyLong_FromLongLong(removed);
}

static PyObject *Index_search(IndexObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"queries", "radius", "threads", NULL};
    PyObject *q_arg;
    int radius = 31, threads = 1;
    if (check_ready(self) < 0) return NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|ii", kwlist, &q_arg, &radius, &threads))
        return NULL;
    if (radius < 0 || radius > 256) {
        PyErr_SetString(PyExc_ValueError, "radius must be in [0, 256]");
        return NULL;
    }
    if (threads < 1 || threads > MAX_THREADS) {
        PyErr_Format(PyExc_ValueError, "threads must be in [1, %d]", MAX_THREADS);
        return NULL;
    }
    PyArrayObject *queries = as_codes(q_arg, "queries");
    if (!queries) return NULL;
    Py_ssize_t nq = PyArray_DIM(queries, 0);
    if (nq > (Py_ssize_t)INT32_MAX) {
        Py_DECREF(queries);
        PyErr_SetString(PyExc_ValueError, "too many queries in one call");
        return NULL;
    }
    /* Threads split the tables (and the query range for scans): more than 16 gain nothing
     * unless there are scans to share. */
    if (nq == 0 || self->count == 0) threads = 1;
    if (threads > NCHUNK && threads > nq) threads = nq > NCHUNK ? (int)nq : NCHUNK;
    Bounds B;
    bounds_init(&B, radius);
    Job jobs[MAX_THREADS];
    memset(jobs, 0, sizeof(jobs));
    size_t total = 0;
    Hit *all = NULL;
    size_t *first = NULL;
    int oom = 0;
    uint64_t *qw = NULL;
    uint16_t *qc = NULL;
    Py_BEGIN_ALLOW_THREADS;
    /* Queries as words (for distances) and as chunks (for keys), shared by the threads. */
    qw = malloc((size_t)(nq ? nq : 1) * CODE_BYTES);
    qc = malloc((size_t)(nq ? nq : 1) * NCHUNK * sizeof(uint16_t));
    if (!qw || !qc) {
        oom = 1;
    } else {
        memcpy(qw, PyArray_DATA(queries), (size_t)nq * CODE_BYTES);
        for (Py_ssize_t q = 0; q < nq; q++)
            for (int k = 0; k < NCHUNK; k++) qc[16 * q + k] = (uint16_t)chunk_of(qw + 4 * q, k);
    }
    for (int t = 0; t < threads; t++) {
        jobs[t].ix = self;
        jobs[t].qw = qw;
        jobs[t].qc = qc;
        jobs[t].nq = nq;
        jobs[t].q0 = nq * t / threads;
        jobs[t].q1 = nq * (t + 1) / threads;
        jobs[t].tab0 = NCHUNK * t / threads;
        jobs[t].tab1 = NCHUNK * (t + 1) / threads;
        jobs[t].B = &B;
    }
    pthread_rwlock_rdlock(&self->lock);
    if (!oom && nq > 0 && self->count > 0) {
        pthread_t tid[MAX_THREADS];
        int started[MAX_THREADS] = {0};
        for (int t = 1; t < threads; t++)
            started[t] = pthread_create(&tid[t], NULL, run_job, &jobs[t]) == 0;
        run_job(&jobs[0]);
        for (int t = 1; t < threads; t++) {
            if (started[t])
                pthread_join(tid[t], NULL);
            else
                run_job(&jobs[t]); /* could not start a thread: do its share here */
        }
    }
    pthread_rwlock_unlock(&self->lock);
    for (int t = 0; t < threads; t++) {
        oom |= jobs[t].hits.oom;
        total += jobs[t].hits.n;
    }
    /* Order by query (counting sort), then by (distance, id) inside each query. */
    if (!oom && total > 0) {
        all = malloc(total * sizeof(Hit));
        first = calloc((size_t)nq + 1, sizeof(size_t));
        if (!all || !first) {
            oom = 1;
        } else {
            for (int t = 0; t < threads; t++)
                for (size_t j = 0; j < jobs[t].hits.n; j++) first[jobs[t].hits.v[j].q + 1]++;
            for (Py_ssize_t q = 0; q < nq; q++) first[q + 1] += first[q];
            for (int t = 0; t < threads; t++)
                for (size_t j = 0; j < jobs[t].hits.n; j++) {
                    const Hit h = jobs[t].hits.v[j];
                    all[first[h.q]++] = h;
                }
            size_t start = 0;
            for (Py_ssize_t q = 0; q < nq; q++) {
                size_t end = first[q];
                if (end - start > 1) qsort(all + start, end - start, sizeof(Hit), cmp_hit);
                start = end;
            }
        }
    }
    for (int t = 0; t < threads; t++) free(jobs[t].hits.v);
    free(qw);
    free(qc);
    Py_END_ALLOW_THREADS;
    Py_DECREF(queries);
    free(first);
    if (oom) {
        free(all);
        return PyErr_NoMemory();
    }
    npy_intp dims[1] = {(npy_intp)total};
    PyArrayObject *qa = (PyArrayObject *)PyArray_SimpleNew(1, dims, NPY_INT32);
    PyArrayObject *ia = (PyArrayObject *)PyArray_SimpleNew(1, dims, NPY_INT64);
    PyArrayObject *da = (PyArrayObject *)PyArray_SimpleNew(1, dims, NPY_INT32);
    if (!qa || !ia || !da) {
        Py_XDECREF(qa);
        Py_XDECREF(ia);
        Py_XDECREF(da);
        free(all);
        return NULL;
    }
    int32_t *qv = PyArray_DATA(qa), *dv = PyArray_DATA(da);
    int64_t *iv = PyArray_DATA(ia);
    for (size_t j = 0; j < total; j++) {
        qv[j] = all[j].q;
        iv[j] = all[j].id;
        dv[j] = all[j].d;
    }
    free(all);
    return Py_BuildValue("(NNN)", qa, ia, da);
}

static PyObject *Index_contains(IndexObject *self, PyObject *arg) {
    if (check_ready(self) < 0) return NULL;
    long long id = PyLong_AsLongLong(arg);
    if (id == -1 && PyErr_Occurred()) return NULL;
    int found = 0;
    Py_BEGIN_ALLOW_THREADS;
    pthread_rwlock_rdlock(&self->lock);
    found = tail_find(&self->tail, id) >= 0;
    for (int k = 0; k < self->nseg && !found; k++) {
        int64_t slot = seg_find(self->segs[k], id);
        found = slot >= 0 && !seg_is_dead(self->segs[k], (uint32_t)slot);
    }
    pthread_rwlock_unlock(&self->lock);
    Py_END_ALLOW_THREADS;
    return PyBool_FromLong(found);
}

static Py_ssize_t Index_len(IndexObject *self) { return (Py_ssize_t)self->count; }

static PyObject *Index_memory_bytes(IndexObject *self, PyObject *Py_UNUSED(ignored)) {
    if (check_ready(self) < 0) return NULL;
    size_t total = sizeof(IndexObject) + tail_memory(&self->tail) +
                   (size_t)self->segcap * sizeof(Segment *);
    for (int k = 0; k < self->nseg; k++) total += seg_memory(self->segs[k]);
    return PyLong_FromSize_t(total);
}

static PyObject *Index_segments(IndexObject *self, PyObject *Py_UNUSED(ignored)) {
    if (check_ready(self) < 0) return NULL;
    PyObject *out = PyList_New(self->nseg);
    if (!out) return NULL;
    for (int k = 0; k < self->nseg; k++) {
        PyObject *t = Py_BuildValue("(II)", self->segs[k]->n, self->segs[k]->live);
        if (!t) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, k, t);
    }
    return out;
}

static PyObject *Index_tail_size(IndexObject *self, PyObject *Py_UNUSED(ignored)) {
    if (check_ready(self) < 0) return NULL;
    return PyLong_FromUnsignedLong(self->tail.n);
}

static PyMethodDef Index_methods[] = {
    {"add", (PyCFunction)(void (*)(void))Index_add, METH_VARARGS | METH_KEYWORDS,
     "add(ids, codes): insert or replace items; ids int64 (n,), codes uint8 (n, 32)."},
    {"remove", (PyCFunction)(void (*)(void))Index_remove, METH_VARARGS | METH_KEYWORDS,
     "remove(ids) -> int: withdraw items; unknown ids are ignored; returns how many went."},
    {"search", (PyCFunction)(void (*)(void))Index_search, METH_VARARGS | METH_KEYWORDS,
     "search(queries, radius=31, threads=1) -> (query_index int32, id int64, distance int32),\n"
     "every stored item within Hamming distance <= radius of each query, sorted by\n"
     "(query_index, distance, id)."},
    {"contains", (PyCFunction)Index_contains, METH_O, "contains(id) -> bool"},
    {"memory_bytes", (PyCFunction)Index_memory_bytes, METH_NOARGS,
     "memory_bytes() -> int: bytes the index holds"},
    {"segments", (PyCFunction)Index_segments, METH_NOARGS,
     "segments() -> list of (slots, live) per sealed segment"},
    {"tail_size", (PyCFunction)Index_tail_size, METH_NOARGS,
     "tail_size() -> int: items in the mutable tail"},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods Index_as_sequence = {
    .sq_length = (lenfunc)Index_len,
};

static PyTypeObject IndexType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "rempart.matching._mih.Index",
    .tp_basicsize = sizeof(IndexObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Index(tail_capacity=2048, max_segment_bits=20): exact Hamming range search "
              "over 256-bit codes (multi-index hashing with pigeonring filtering).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Index_init,
    .tp_dealloc = (destructor)Index_dealloc,
    .tp_methods = Index_methods,
    .tp_as_sequence = &Index_as_sequence,
};


static PyObject *mod_set_simd(PyObject *Py_UNUSED(m), PyObject *arg) {
    int on = PyObject_IsTrue(arg);
    if (on < 0) return NULL;
    int was = g_use_avx2;
    g_use_avx2 = on && cpu_has_avx2();
    return PyBool_FromLong(was);
}

static PyObject *mod_set_strategy(PyObject *Py_UNUSED(m), PyObject *arg) {
    long v = PyLong_AsLong(arg);
    if (v == -1 && PyErr_Occurred()) return NULL;
    if (v < STRATEGY_AUTO || v > STRATEGY_SCAN) {
        PyErr_SetString(PyExc_ValueError, "strategy must be 0 (auto), 1 (tables) or 2 (scan)");
        return NULL;
    }
    int was = g_strategy;
    g_strategy = (int)v;
    return PyLong_FromLong(was);
}


/* nearest2(queries, codes): for each query, its two nearest codes (the local-feature stage's
 * 2-NN for Lowe's ratio test).  Ties go to the lower index, the second nearest after the first:
 * the order of OpenCV's brute-force knnMatch (k=2), whose results these are, without its two
 * Python objects a pair.  Codes (m, 32) are read in blocks that stay in L1 while every query
 * is run against them.
 *
 * The kernels: a code's four 64-bit words are laid out word by word (codes 0..m-1 of word 0,
 * then of word 1, ...), so that a vector holds one word of 8 codes (AVX-512 with its 64-bit
 * popcount) or 4 (AVX2: popcounts of bytes by nibble lookup, summed by vpsadbw), and a query's
 * distances to them come out one a lane, with no sum across a vector.  Only lanes nearer than
 * the query's second nearest so far are looked at, in index order, through the same update as
 * the scalar loop's: the answers are the scalar loop's (tested, each kernel against it). */
#define NN_BLOCK 512

enum { NN_SCALAR = 0, NN_AVX2 = 1, NN_AVX512 = 2 };
static int g_nn_kernel = NN_SCALAR; /* the best the CPU has, set at import */
static const char *const NN_KERNEL_NAMES[] = {"scalar", "avx2", "avx512"};

typedef struct {
    int32_t d0, d1, i0, i1;
} Best2;

static inline void best2_offer(Best2 *b, int32_t d, int32_t j) {
    if (d < b->d1) {
        if (d < b->d0) {
            b->d1 = b->d0, b->i1 = b->i0;
            b->d0 = d, b->i0 = j;
        } else {
            b->d1 = d, b->i1 = j;
        }
    }
}

/* codes [start, end) against one query, one code at a time (rows: the codes as given) */
static inline void nn_rows(const uint64_t a[CODE_WORDS], const uint8_t *cb, npy_intp start,
                           npy_intp end, Best2 *b) {
    for (npy_intp j = start; j < end; j++) {
        uint64_t c[CODE_WORDS];
        memcpy(c, cb + j * CODE_BYTES, CODE_BYTES);
        int32_t d = popc64(a[0] ^ c[0]) + popc64(a[1] ^ c[1]) + popc64(a[2] ^ c[2]) +
                    popc64(a[3] ^ c[3]);
        best2_offer(b, d, (int32_t)j);
    }
}

#ifdef HAVE_AVX2_KERNEL
/* codes [start, end) (end - start a multiple of 8) of the word-by-word layout `w` (m codes) */
__attribute__((target("avx512f,avx512vpopcntdq"))) static void nn_avx512(
    const uint64_t a[CODE_WORDS], const uint64_t *w, npy_intp m, npy_intp start, npy_intp end,
    Best2 *b) {
    const __m512i q0 = _mm512_set1_epi64((long long)a[0]), q1 = _mm512_set1_epi64((long long)a[1]);
    const __m512i q2 = _mm512_set1_epi64((long long)a[2]), q3 = _mm512_set1_epi64((long long)a[3]);
    __m512i bound = _mm512_set1_epi64(b->d1);
    for (npy_intp j = start; j < end; j += 8) {
        __m512i d = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(w + j), q0));
        d = _mm512_add_epi64(
            d, _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(w + m + j), q1)));
        d = _mm512_add_epi64(
            d, _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(w + 2 * m + j), q2)));
        d = _mm512_add_epi64(
            d, _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(w + 3 * m + j), q3)));
        __mmask8 nearer = _mm512_cmplt_epi64_mask(d, bound);
        if (nearer) {
            int64_t lanes[8];
            _mm512_storeu_si512(lanes, d);
            unsigned left = nearer;
            while (left) {
                int lane = __builtin_ctz(left);
                left &= left - 1;
                best2_offer(b, (int32_t)lanes[lane], (int32_t)(j + lane));
            }
            bound = _mm512_set1_epi64(b->d1);
        }
    }
}

/* the same with 4 codes a vector, for CPUs without AVX-512's popcount (end - start: of 4) */
__attribute__((target("avx2"))) static void nn_avx2(const uint64_t a[CODE_WORDS],
                                                    const uint64_t *w, npy_intp m,
                                                    npy_intp start, npy_intp end, Best2 *b) {
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1,
                                         2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i nibble = _mm256_set1_epi8(0x0f), zero = _mm256_setzero_si256();
    __m256i q[CODE_WORDS];
    for (int k = 0; k < CODE_WORDS; k++) q[k] = _mm256_set1_epi64x((long long)a[k]);
    __m256i bound = _mm256_set1_epi64x(b->d1);
    for (npy_intp j = start; j < end; j += 4) {
        __m256i bytes = zero; /* each byte's count over the 4 words: at most 32 */
        for (int k = 0; k < CODE_WORDS; k++) {
            __m256i x = _mm256_xor_si256(
                _mm256_loadu_si256((const __m256i *)(w + (npy_intp)k * m + j)), q[k]);
            __m256i lo = _mm256_shuffle_epi8(lut, _mm256_and_si256(x, nibble));
            __m256i hi = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), nibble));
            bytes = _mm256_add_epi8(bytes, _mm256_add_epi8(lo, hi));
        }
        __m256i d = _mm256_sad_epu8(bytes, zero); /* a lane's 8 bytes summed: its distance */
        int nearer = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(bound, d)));
        if (nearer) {
            int64_t lanes[4];
            _mm256_storeu_si256((__m256i *)lanes, d);
            while (nearer) {
                int lane = __builtin_ctz((unsigned)nearer);
                nearer &= nearer - 1;
                best2_offer(b, (int32_t)lanes[lane], (int32_t)(j + lane));
            }
            bound = _mm256_set1_epi64x(b->d1);
        }
    }
}

static int cpu_has_avx512_popcount(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq");
}
#else
static int cpu_has_avx512_popcount(void) { return 0; }
#endif

static int nn_best_kernel(void) {
    if (cpu_has_avx512_popcount()) return NN_AVX512;
    if (cpu_has_avx2()) return NN_AVX2;
    return NN_SCALAR;
}

static void nearest2_run(const uint8_t *qb, npy_intp n, const uint8_t *cb, npy_intp count,
                         const uint64_t *w, int kernel, int32_t *best_i, int32_t *best_d) {
    /* codes a vector holds (0: none, the scalar loop reads them all) */
    const npy_intp lanes = kernel == NN_AVX512 ? 8 : kernel == NN_AVX2 ? 4 : 0;
    for (npy_intp i = 0; i < n; i++) {
        best_i[2 * i] = best_i[2 * i + 1] = -1;
        best_d[2 * i] = best_d[2 * i + 1] = INT32_MAX;
    }
    for (npy_intp start = 0; start < count; start += NN_BLOCK) {
        npy_intp end = start + NN_BLOCK < count ? start + NN_BLOCK : count;
        npy_intp vend = lanes ? start + (end - start) / lanes * lanes : start; /* NN_BLOCK: of 8 */
        for (npy_intp i = 0; i < n; i++) {
            uint64_t a[CODE_WORDS];
            memcpy(a, qb + i * CODE_BYTES, CODE_BYTES);
            Best2 b = {best_d[2 * i], best_d[2 * i + 1], best_i[2 * i], best_i[2 * i + 1]};
#ifdef HAVE_AVX2_KERNEL
            if (kernel == NN_AVX512) nn_avx512(a, w, count, start, vend, &b);
            else if (kernel == NN_AVX2) nn_avx2(a, w, count, start, vend, &b);
#endif
            nn_rows(a, cb, vend, end, &b);
            best_d[2 * i] = b.d0, best_d[2 * i + 1] = b.d1;
            best_i[2 * i] = b.i0, best_i[2 * i + 1] = b.i1;
        }
    }
}

static PyObject *mod_nearest2(PyObject *Py_UNUSED(m), PyObject *args) {
    PyObject *q_obj, *c_obj;
    if (!PyArg_ParseTuple(args, "OO", &q_obj, &c_obj)) return NULL;
    PyArrayObject *q = (PyArrayObject *)PyArray_FROMANY(q_obj, NPY_UINT8, 2, 2, NPY_ARRAY_IN_ARRAY);
    if (!q) return NULL;
    PyArrayObject *c = (PyArrayObject *)PyArray_FROMANY(c_obj, NPY_UINT8, 2, 2, NPY_ARRAY_IN_ARRAY);
    if (!c) {
        Py_DECREF(q);
        return NULL;
    }
    if (PyArray_DIM(q, 1) != CODE_BYTES || PyArray_DIM(c, 1) != CODE_BYTES) {
        PyErr_SetString(PyExc_ValueError, "queries and codes must be uint8 arrays of shape (n, 32)");
        Py_DECREF(q);
        Py_DECREF(c);
        return NULL;
    }
    npy_intp n = PyArray_DIM(q, 0), count = PyArray_DIM(c, 0);
    npy_intp dims[2] = {n, 2};
    PyArrayObject *idx = (PyArrayObject *)PyArray_SimpleNew(2, dims, NPY_INT32);
    PyArrayObject *dist = (PyArrayObject *)PyArray_SimpleNew(2, dims, NPY_INT32);
    int kernel = g_nn_kernel;
    /* the codes word by word, for the vector kernels (a few KiB: a registered picture's) */
    uint64_t *w = kernel != NN_SCALAR && count > 0 ? malloc((size_t)count * CODE_BYTES) : NULL;
    if (!idx || !dist || (kernel != NN_SCALAR && count > 0 && !w)) {
        Py_XDECREF(idx);
        Py_XDECREF(dist);
        Py_DECREF(q);
        Py_DECREF(c);
        free(w);
        return PyErr_NoMemory();
    }
    int32_t *best_i = (int32_t *)PyArray_DATA(idx), *best_d = (int32_t *)PyArray_DATA(dist);
    const uint8_t *qb = (const uint8_t *)PyArray_DATA(q), *cb = (const uint8_t *)PyArray_DATA(c);
    Py_BEGIN_ALLOW_THREADS
    if (w != NULL) {
        for (npy_intp j = 0; j < count; j++) {
            uint64_t code[CODE_WORDS];
            memcpy(code, cb + j * CODE_BYTES, CODE_BYTES);
            for (int k = 0; k < CODE_WORDS; k++) w[(npy_intp)k * count + j] = code[k];
        }
    }
    nearest2_run(qb, n, cb, count, w, w != NULL ? kernel : NN_SCALAR, best_i, best_d);
    Py_END_ALLOW_THREADS
    free(w);
    Py_DECREF(q);
    Py_DECREF(c);
    return Py_BuildValue("NN", (PyObject *)idx, (PyObject *)dist);
}

static PyObject *mod_set_nearest2_kernel(PyObject *Py_UNUSED(m), PyObject *arg) {
    const char *name = PyUnicode_AsUTF8(arg);
    if (!name) return NULL;
    int best = nn_best_kernel(), chosen = -1;
    for (int k = NN_SCALAR; k <= NN_AVX512; k++)
        if (strcmp(name, NN_KERNEL_NAMES[k]) == 0) chosen = k;
    if (strcmp(name, "best") == 0) chosen = best;
    if (chosen < 0 || chosen > best || (chosen == NN_AVX512 && best != NN_AVX512)) {
        PyErr_Format(PyExc_ValueError, "no nearest2 kernel %R on this CPU (it has up to %s)", arg,
                     NN_KERNEL_NAMES[best]);
        return NULL;
    }
    int was = g_nn_kernel;
    g_nn_kernel = chosen;
    return PyUnicode_FromString(NN_KERNEL_NAMES[was]);
}


/* bucket_keys(codes, positions): the local-feature index's bucket keys (matching/features.py):
 * for table t, key bit b of a code is its bit positions[t, b], bits numbered as numpy's
 * unpackbits numbers them (bit 0: the first byte's high bit).  Returns int64 (tables, n). */
static PyObject *mod_bucket_keys(PyObject *Py_UNUSED(m), PyObject *args) {
    PyObject *c_obj, *p_obj;
    if (!PyArg_ParseTuple(args, "OO", &c_obj, &p_obj)) return NULL;
    PyArrayObject *c = (PyArrayObject *)PyArray_FROMANY(c_obj, NPY_UINT8, 2, 2, NPY_ARRAY_IN_ARRAY);
    if (!c) return NULL;
    PyArrayObject *p = (PyArrayObject *)PyArray_FROMANY(p_obj, NPY_INT64, 2, 2, NPY_ARRAY_IN_ARRAY);
    if (!p) {
        Py_DECREF(c);
        return NULL;
    }
    npy_intp n = PyArray_DIM(c, 0), tables = PyArray_DIM(p, 0), bits = PyArray_DIM(p, 1);
    const int64_t *pos = (const int64_t *)PyArray_DATA(p);
    int bad = PyArray_DIM(c, 1) != CODE_BYTES || bits > 62;
    for (npy_intp k = 0; !bad && k < tables * bits; k++) bad = pos[k] < 0 || pos[k] >= CODE_BYTES * 8;
    if (bad) {
        PyErr_SetString(PyExc_ValueError,
                        "codes must be uint8 (n, 32) and positions (tables, at most 62) in 0..255");
        Py_DECREF(c);
        Py_DECREF(p);
        return NULL;
    }
    npy_intp dims[2] = {tables, n};
    PyArrayObject *keys = (PyArrayObject *)PyArray_SimpleNew(2, dims, NPY_INT64);
    if (!keys) {
        Py_DECREF(c);
        Py_DECREF(p);
        return NULL;
    }
    int64_t *out = (int64_t *)PyArray_DATA(keys);
    const uint8_t *cb = (const uint8_t *)PyArray_DATA(c);
    Py_BEGIN_ALLOW_THREADS
    for (npy_intp t = 0; t < tables; t++) {
        const int64_t *tp = pos + t * bits;
        for (npy_intp i = 0; i < n; i++) {
            const uint8_t *code = cb + i * CODE_BYTES;
            int64_t key = 0;
            for (npy_intp b = 0; b < bits; b++)
                key |= (int64_t)((code[tp[b] >> 3] >> (7 - (tp[b] & 7))) & 1) << b;
            out[t * n + i] = key;
        }
    }
    Py_END_ALLOW_THREADS
    Py_DECREF(c);
    Py_DECREF(p);
    return (PyObject *)keys;
}


/* near_postings(keys, offsets, rows, codes, queries, stop, radius): the local-feature index's
 * votes in one table (matching/features.FeatureIndex.candidates).  Query i reads the bucket
 * keys[i] of a CSR table (offsets, rows); a bucket that is empty or holds more than `stop`
 * postings is skipped; a posting votes when its code lies within `radius` bits of the query.
 * Returns the voting postings' rows and their queries (int32 each), bucket by bucket. */
static PyObject *mod_near_postings(PyObject *Py_UNUSED(m), PyObject *args) {
    PyObject *k_obj, *o_obj, *r_obj, *c_obj, *q_obj;
    long long stop, radius;
    if (!PyArg_ParseTuple(args, "OOOOOLL", &k_obj, &o_obj, &r_obj, &c_obj, &q_obj, &stop, &radius))
        return NULL;
    PyArrayObject *keys = NULL, *offsets = NULL, *rows = NULL, *codes = NULL, *queries = NULL;
    PyArrayObject *out_rows = NULL, *out_queries = NULL;
    int32_t *found_rows = NULL, *found_queries = NULL;
    PyObject *result = NULL;
    keys = (PyArrayObject *)PyArray_FROMANY(k_obj, NPY_INT64, 1, 1, NPY_ARRAY_IN_ARRAY);
    offsets = (PyArrayObject *)PyArray_FROMANY(o_obj, NPY_INT64, 1, 1, NPY_ARRAY_IN_ARRAY);
    rows = (PyArrayObject *)PyArray_FROMANY(r_obj, NPY_INT32, 1, 1, NPY_ARRAY_IN_ARRAY);
    codes = (PyArrayObject *)PyArray_FROMANY(c_obj, NPY_UINT8, 2, 2, NPY_ARRAY_IN_ARRAY);
    queries = (PyArrayObject *)PyArray_FROMANY(q_obj, NPY_UINT8, 2, 2, NPY_ARRAY_IN_ARRAY);
    if (!keys || !offsets || !rows || !codes || !queries) goto done;
    if (PyArray_DIM(codes, 1) != CODE_BYTES || PyArray_DIM(queries, 1) != CODE_BYTES ||
        PyArray_DIM(keys, 0) != PyArray_DIM(queries, 0) || PyArray_DIM(offsets, 0) < 1) {
        PyErr_SetString(PyExc_ValueError, "near_postings: mismatched shapes");
        goto done;
    }
    npy_intp n = PyArray_DIM(keys, 0), buckets = PyArray_DIM(offsets, 0) - 1;
    npy_intp postings = PyArray_DIM(rows, 0), count = PyArray_DIM(codes, 0);
    const int64_t *key = (const int64_t *)PyArray_DATA(keys);
    const int64_t *offset = (const int64_t *)PyArray_DATA(offsets);
    const int32_t *row = (const int32_t *)PyArray_DATA(rows);
    const uint8_t *cb = (const uint8_t *)PyArray_DATA(codes), *qb = (const uint8_t *)PyArray_DATA(queries);
    for (npy_intp i = 0; i < n; i++) {
        if (key[i] < 0 || key[i] >= buckets) {
            PyErr_SetString(PyExc_ValueError, "near_postings: a key lies outside the table");
            goto done;
        }
        int64_t first = offset[key[i]], last = offset[key[i] + 1];
        if (first < 0 || last > postings || first > last) {
            PyErr_SetString(PyExc_ValueError, "near_postings: damaged offsets");
            goto done;
        }
    }
    npy_intp used = 0, capacity = 1024;
    found_rows = malloc(capacity * sizeof(int32_t));
    found_queries = malloc(capacity * sizeof(int32_t));
    if (!found_rows || !found_queries) {
        PyErr_NoMemory();
        goto done;
    }
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
    for (npy_intp i = 0; i < n && !failed; i++) {
        int64_t start = offset[key[i]], end = offset[key[i] + 1];
        if (end - start <= 0 || end - start > stop) continue;
        uint64_t a[CODE_WORDS];
        memcpy(a, qb + i * CODE_BYTES, CODE_BYTES);
        for (int64_t p = start; p < end; p++) {
            if (row[p] < 0 || row[p] >= count) {
                failed = 2;
                break;
            }
            uint64_t c[CODE_WORDS];
            memcpy(c, cb + (npy_intp)row[p] * CODE_BYTES, CODE_BYTES);
            int d = popc64(a[0] ^ c[0]) + popc64(a[1] ^ c[1]) + popc64(a[2] ^ c[2]) +
                    popc64(a[3] ^ c[3]);
            if (d > radius) continue;
            if (used == capacity) {
                capacity *= 2;
                int32_t *grown_rows = realloc(found_rows, capacity * sizeof(int32_t));
                if (grown_rows) found_rows = grown_rows;
                int32_t *grown_queries = realloc(found_queries, capacity * sizeof(int32_t));
                if (grown_queries) found_queries = grown_queries;
                if (!grown_rows || !grown_queries) {
                    failed = 1;
                    break;
                }
            }
            found_rows[used] = row[p];
            found_queries[used] = (int32_t)i;
            used++;
        }
    }
    Py_END_ALLOW_THREADS
    if (failed == 2) {
        PyErr_SetString(PyExc_ValueError, "near_postings: a row lies outside the codes");
        goto done;
    }
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    npy_intp dims[1] = {used};
    out_rows = (PyArrayObject *)PyArray_SimpleNew(1, dims, NPY_INT32);
    out_queries = (PyArrayObject *)PyArray_SimpleNew(1, dims, NPY_INT32);
    if (!out_rows || !out_queries) goto done;
    if (used) {
        memcpy(PyArray_DATA(out_rows), found_rows, used * sizeof(int32_t));
        memcpy(PyArray_DATA(out_queries), found_queries, used * sizeof(int32_t));
    }
    result = Py_BuildValue("OO", (PyObject *)out_rows, (PyObject *)out_queries);
done:
    free(found_rows);
    free(found_queries);
    Py_XDECREF(out_rows);
    Py_XDECREF(out_queries);
    Py_XDECREF(keys);
    Py_XDECREF(offsets);
    Py_XDECREF(rows);
    Py_XDECREF(codes);
    Py_XDECREF(queries);
    return result;
}

static PyMethodDef mod_methods[] = {
    {"set_simd", mod_set_simd, METH_O,
     "set_simd(on) -> bool: use the AVX2 scan where the CPU has it (default); returns the "
     "previous setting.  For tests and benchmarks: results are identical either way."},
    {"set_strategy", mod_set_strategy, METH_O,
     "set_strategy(mode) -> int: 0 lets the cost model choose tables or a scan per segment,\n"
     "1 forces the tables, 2 the scan; returns the previous mode.  For tests and calibration:\n"
     "results are identical either way."},
    {"nearest2", mod_nearest2, METH_VARARGS,
     "nearest2(queries, codes) -> (index int32 (n, 2), distance int32 (n, 2)): each query's\n"
     "two nearest codes by Hamming distance, nearest first, ties to the lower index (OpenCV's\n"
     "brute-force knnMatch with k=2); index -1 and distance 2**31-1 where codes has fewer."},
    {"set_nearest2_kernel", mod_set_nearest2_kernel, METH_O,
     "set_nearest2_kernel(name) -> str: 'scalar', 'avx2', 'avx512' or 'best' (the default, the\n"
     "best this CPU has); returns the previous one.  For tests and benchmarks: results are\n"
     "identical either way; a kernel the CPU lacks is refused (ValueError)."},
    {"bucket_keys", mod_bucket_keys, METH_VARARGS,
     "bucket_keys(codes, positions) -> int64 (tables, n): key bit b of table t is the code's\n"
     "bit positions[t, b] (numpy.unpackbits's numbering)."},
    {"near_postings", mod_near_postings, METH_VARARGS,
     "near_postings(keys, offsets, rows, codes, queries, stop, radius) -> (rows int32,\n"
     "queries int32): the postings of each query's bucket (CSR: offsets int64, rows int32),\n"
     "buckets empty or over `stop` postings skipped, whose codes lie within `radius` bits of\n"
     "the query's, bucket by bucket."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef mih_module = {
    PyModuleDef_HEAD_INIT, .m_name = "rempart.matching._mih",
    .m_doc = "Exact incremental Hamming range search over 256-bit codes.", .m_size = -1,
    .m_methods = mod_methods,
};

PyMODINIT_FUNC PyInit__mih(void) {
    import_array();
    g_use_avx2 = cpu_has_avx2();
    g_nn_kernel = nn_best_kernel();
    if (PyType_Ready(&IndexType) < 0) return NULL;
    PyObject *m = PyModule_Create(&mih_module);
    if (!m) return NULL;
    Py_INCREF(&IndexType);
    if (PyModule_AddObject(m, "Index", (PyObject *)&IndexType) < 0) {
        Py_DECREF(&IndexType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
