/*
 * The page's local features: what rempart.hashing.features.extract_features(luma, checks=True)
 * stores with a registered item (LocalFeatures.to_bytes, version 2), computed the way OpenCV
 * computes them: the luma to bytes, OpenCV's INTER_AREA scaling to FEATURE_SIDE, the page
 * mask, then OpenCV's ORB (pyramid by bit-exact bilinear scaling with mirrored borders,
 * FAST-9 with non-maximum suppression, border filter, best by FAST score then by Harris
 * response, intensity-centroid angle, 7 x 7 Gaussian smoothing, steered BRIEF) and the check
 * points. Written from the algorithms' descriptions and checked against cv2 bit for bit by
 * tests/intake/test_page_features.py; the sampling pattern is generated (orb_pattern.h).
 *
 * Owns this arithmetic only; included by kernel.c. Must not compare features.
 */

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "orb_pattern.h"

#define F_SIDE 512          /* features.FEATURE_SIDE */
#define F_MAX 500           /* features.MAX_FEATURES */
#define F_LEVELS 8          /* features.ORB_LEVELS */
#define F_FAST 12           /* FAST threshold */
#define F_EDGE 31           /* ORB's edge threshold (keypoints this far from a level's edge) */
#define F_HALF 15           /* half ORB's patch (31) */
#define F_BORDER 32         /* ORB's pyramid border: max(edge, ceil(15 * sqrt 2), 4) + 1 */
#define F_CHECK_STEP 32     /* features.CHECK_STEP */
#define F_CHECK_REACH 21    /* features.check_radius() + 1 */
#define F_CHECK_LEVEL 1     /* features.CHECK_LEVEL */
#define F_DESC 32
#define F_PAGE_TOLERANCE 6  /* features._PAGE_TOLERANCE and the shares after it */
#define F_BLOCK 16
/* ORB_create's scaleFactor is a C float (1.2f) that OpenCV keeps as a double */
#define F_SCALE_FACTOR ((double)1.2f)

typedef struct {
    int w, h, stride; /* stride = w + 2 * F_BORDER */
    uint8_t *base;    /* (h + 2 * F_BORDER) rows of `stride` */
    uint8_t *px;      /* the level's first pixel, inside the border */
    uint8_t *mask;    /* w x h, or NULL */
    float scale;      /* the level's scale (1.2^level, as a float) */
} Level;

typedef struct {
    float x, y, response, angle;
    int level, lx, ly; /* the keypoint in its level's pixels */
} Keypoint;

/* OpenCV's cvRound: to nearest, ties to even (the default rounding mode) */
static int f_round(double v) { return (int)lrint(v); }

static int f_roundf(float v) { return (int)lrintf(v); }

/* ------------------------------------------------------------ INTER_AREA (the CLI's scaling) */

typedef struct {
    int di, si;
    float alpha;
} AreaTab;

static int area_tab(int ssize, int dsize, double scale, AreaTab *tab) {
    int k = 0;
    for (int dx = 0; dx < dsize; dx++) {
        const double fsx1 = dx * scale, fsx2 = fsx1 + scale;
        const double cell = scale < ssize - fsx1 ? scale : ssize - fsx1;
        int sx1 = (int)ceil(fsx1), sx2 = (int)floor(fsx2);
        if (sx2 > ssize - 1) {
            sx2 = ssize - 1;
        }
        if (sx1 > sx2) {
            sx1 = sx2;
        }
        if (sx1 - fsx1 > 1e-3) {
            tab[k].di = dx;
            tab[k].si = sx1 - 1;
            tab[k++].alpha = (float)((sx1 - fsx1) / cell);
        }
        for (int sx = sx1; sx < sx2; sx++) {
            tab[k].di = dx;
            tab[k].si = sx;
            tab[k++].alpha = (float)(1.0 / cell);
        }
        if (fsx2 - sx2 > 1e-3) {
            double part = fsx2 - sx2 < 1.0 ? fsx2 - sx2 : 1.0;
            if (part > cell) {
                part = cell;
            }
            tab[k].di = dx;
            tab[k].si = sx2;
            tab[k++].alpha = (float)(part / cell);
        }
    }
    return k;
}

/* The CLI's bytes of a luma row: np.clip(luma, 0, 255).astype(np.uint8), which truncates. */
static void grey_row(const float *luma, int w, uint8_t *out) {
    for (int x = 0; x < w; x++) {
        const float v = luma[x];
        out[x] = (uint8_t)(v <= 0.f ? 0 : v >= 255.f ? 255 : (int)v);
    }
}

/* Rows of the luma as bytes, converted when first read (the last two kept): a 12-megapixel
 * picture is never copied whole. */
typedef struct {
    const float *luma;
    int w, at[2];
    uint8_t *rows[2];
} GreyRows;

static const uint8_t *grey_at(GreyRows *g, int y) {
    for (int i = 0; i < 2; i++) {
        if (g->at[i] == y) {
            return g->rows[i];
        }
    }
    uint8_t *row = g->rows[0];
    g->rows[0] = g->rows[1];
    g->rows[1] = row;
    g->at[0] = g->at[1];
    g->at[1] = y;
    grey_row(g->luma + (size_t)y * g->w, g->w, row);
    return row;
}

static int resize_area_rows(GreyRows *src, int sw, int sh, uint8_t *dst, int dw, int dh) {
    const double scale_x = 1.0 / ((double)dw / sw), scale_y = 1.0 / ((double)dh / sh);
    const int ix = f_round(scale_x), iy = f_round(scale_y);
    if (fabs(scale_x - ix) < DBL_EPSILON && fabs(scale_y - iy) < DBL_EPSILON) {
        if (ix == 2 && iy == 2) {
            for (int y = 0; y < dh; y++) {
                const uint8_t *a = grey_at(src, 2 * y), *b = grey_at(src, 2 * y + 1);
                for (int x = 0; x < dw; x++) {
                    dst[(size_t)y * dw + x] =
                        (uint8_t)((a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1] + 2) >> 2);
                }
            }
            return 0;
        }
        const float inv = 1.f / (float)(ix * iy);
        int *sum = malloc((size_t)dw * sizeof(int));
        if (sum == NULL) {
            return -1;
        }
        for (int y = 0; y < dh; y++) {
            memset(sum, 0, (size_t)dw * sizeof(int));
            for (int r = 0; r < iy; r++) {
                const uint8_t *row = grey_at(src, y * iy + r);
                for (int x = 0; x < dw; x++) {
                    for (int c = 0; c < ix; c++) {
                        sum[x] += row[x * ix + c];
                    }
                }
            }
            for (int x = 0; x < dw; x++) {
                const int v = f_roundf((float)sum[x] * inv);
                dst[(size_t)y * dw + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
        free(sum);
        return 0;
    }
    AreaTab *xtab = malloc((size_t)sw * 2 * sizeof(AreaTab));
    AreaTab *ytab = malloc((size_t)sh * 2 * sizeof(AreaTab));
    float *buf = malloc((size_t)dw * 2 * sizeof(float));
    if (xtab == NULL || ytab == NULL || buf == NULL) {
        free(xtab);
        free(ytab);
        free(buf);
        return -1;
    }
    float *sum = buf + dw;
    const int xn = area_tab(sw, dw, scale_x, xtab), yn = area_tab(sh, dh, scale_y, ytab);
    int prev = ytab[0].di;
    for (int x = 0; x < dw; x++) {
        sum[x] = 0.f;
    }
    for (int j = 0; j < yn; j++) {
        const float beta = ytab[j].alpha;
        const int dy = ytab[j].di;
        const uint8_t *row = grey_at(src, ytab[j].si);
        for (int x = 0; x < dw; x++) {
            buf[x] = 0.f;
        }
        for (int k = 0; k < xn; k++) {
            buf[xtab[k].di] += (float)row[xtab[k].si] * xtab[k].alpha;
        }
        if (dy != prev) {
            for (int x = 0; x < dw; x++) {
                const int v = f_roundf(sum[x]);
                dst[(size_t)prev * dw + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
                sum[x] = beta * buf[x];
            }
            prev = dy;
        } else {
            for (int x = 0; x < dw; x++) {
                sum[x] += beta * buf[x];
            }
        }
    }
    for (int x = 0; x < dw; x++) {
        const int v = f_roundf(sum[x]);
        dst[(size_t)prev * dw + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    free(xtab);
    free(ytab);
    free(buf);
    return 0;
}

/* cv2.resize(grey, (dw, dh), interpolation=INTER_AREA) of the bytes of a sw x sh luma,
 * shrinking. Returns 0, or -1 out of memory. */
static int resize_area(const float *luma, int sw, int sh, uint8_t *dst, int dw, int dh) {
    GreyRows src = {luma, sw, {-1, -1}, {malloc((size_t)sw), malloc((size_t)sw)}};
    int status = src.rows[0] && src.rows[1] ? resize_area_rows(&src, sw, sh, dst, dw, dh) : -1;
    free(src.rows[0]);
    free(src.rows[1]);
    return status;
}
/* ------------------------------------------------- INTER_LINEAR_EXACT (ORB's pyramid scaling) */

/* Source offset and 8-bit fixed-point weights of each destination pixel along one axis. */
static void linear_coeffs(int ssize, int dsize, int *ofs, int *c0, int *c1) {
    const double scale = 1.0 / ((double)dsize / ssize);
    for (int d = 0; d < dsize; d++) {
        const double f = scale * ((double)d + 0.5) - 0.5;
        const int i = (int)floor(f);
        if (i >= 0 && ssize > 1 && i < ssize - 1) {
            ofs[d] = i;
            c1[d] = (int)llrint((f - i) * 256.0);
            c0[d] = 256 - c1[d];
        } else {
            ofs[d] = i < 0 || ssize <= 1 ? 0 : ssize - 1;
            c0[d] = 256;
            c1[d] = 0;
        }
    }
}

/* cv2.resize(INTER_LINEAR_EXACT) of bytes: rows `sstride` and `dstride` apart. */
static int resize_linear_exact(const uint8_t *src, int sw, int sh, int sstride, uint8_t *dst,
                               int dw, int dh, int dstride) {
    int *xo = malloc((size_t)dw * 3 * sizeof(int)), *yo = malloc((size_t)dh * 3 * sizeof(int));
    int *h0 = malloc((size_t)dw * 2 * sizeof(int));
    if (xo == NULL || yo == NULL || h0 == NULL) {
        free(xo);
        free(yo);
        free(h0);
        return -1;
    }
    linear_coeffs(sw, dw, xo, xo + dw, xo + 2 * dw);
    linear_coeffs(sh, dh, yo, yo + dh, yo + 2 * dh);
    int *h1 = h0 + dw;
    for (int y = 0; y < dh; y++) {
        const int sy = yo[y], cy0 = yo[dh + y], cy1 = yo[2 * dh + y];
        const uint8_t *r0 = src + (size_t)sy * sstride;
        const uint8_t *r1 = cy1 ? r0 + sstride : r0;
        for (int x = 0; x < dw; x++) {
            const int sx = xo[x], cx0 = xo[dw + x], cx1 = xo[2 * dw + x];
            h0[x] = r0[sx] * cx0 + (cx1 ? r0[sx + 1] * cx1 : 0);
            h1[x] = r1[sx] * cx0 + (cx1 ? r1[sx + 1] * cx1 : 0);
        }
        uint8_t *out = dst + (size_t)y * dstride;
        for (int x = 0; x < dw; x++) {
            const int v = (cy0 * h0[x] + cy1 * h1[x] + (1 << 15)) >> 16;
            out[x] = (uint8_t)(v > 255 ? 255 : v);
        }
    }
    free(xo);
    free(yo);
    free(h0);
    return 0;
}

/* --------------------------------------------------------------------------------- pyramid */

static int reflect101(int i, int n) {
    if (n == 1) {
        return 0;
    }
    while (i < 0 || i >= n) {
        i = i < 0 ? -i : 2 * n - 2 - i;
    }
    return i;
}

/* Fills a level's border with its own pixels mirrored about the edge ones (BORDER_REFLECT_101). */
static void fill_border(Level *l) {
    for (int y = -F_BORDER; y < l->h + F_BORDER; y++) {
        uint8_t *row = l->px + (ptrdiff_t)y * l->stride;
        const uint8_t *from = l->px + (ptrdiff_t)reflect101(y, l->h) * l->stride;
        for (int x = -F_BORDER; x < l->w + F_BORDER; x++) {
            if (y < 0 || y >= l->h || x < 0 || x >= l->w) {
                row[x] = from[reflect101(x, l->w)];
            }
        }
    }
}

static float level_scale(int level) { return (float)pow(F_SCALE_FACTOR, (double)level); }

static void free_levels(Level *levels, int n) {
    for (int i = 0; i < n; i++) {
        free(levels[i].base);
        free(levels[i].mask);
    }
}

/* ORB's pyramid of `n` levels of a w x h image (and of its mask, or NULL). Returns 0, or -1. */
static int build_pyramid(const uint8_t *grey, const uint8_t *mask, int w, int h, int n,
                         Level *levels) {
    memset(levels, 0, (size_t)n * sizeof(Level));
    for (int i = 0; i < n; i++) {
        Level *l = &levels[i];
        l->scale = level_scale(i);
        l->w = i ? f_roundf((float)w / l->scale) : w;
        l->h = i ? f_roundf((float)h / l->scale) : h;
        if (l->w < 1 || l->h < 1) {
            return -1;
        }
        l->stride = l->w + 2 * F_BORDER;
        l->base = malloc((size_t)l->stride * (size_t)(l->h + 2 * F_BORDER));
        l->mask = mask ? malloc((size_t)l->w * (size_t)l->h) : NULL;
        if (l->base == NULL || (mask && l->mask == NULL)) {
            return -1;
        }
        l->px = l->base + (size_t)F_BORDER * l->stride + F_BORDER;
        if (i == 0) {
            for (int y = 0; y < h; y++) {
                memcpy(l->px + (size_t)y * l->stride, grey + (size_t)y * w, (size_t)w);
            }
            if (mask) {
                memcpy(l->mask, mask, (size_t)w * h);
            }
        } else {
            const Level *p = &levels[i - 1];
            if (resize_linear_exact(p->px, p->w, p->h, p->stride, l->px, l->w, l->h,
                                    l->stride) != 0) {
                return -1;
            }
            if (mask) {
                if (resize_linear_exact(p->mask, p->w, p->h, p->w, l->mask, l->w, l->h, l->w) !=
                    0) {
                    return -1;
                }
                for (size_t k = 0; k < (size_t)l->w * l->h; k++) {
                    l->mask[k] = l->mask[k] > 254 ? l->mask[k] : 0;
                }
            }
        }
        fill_border(l);
    }
    return 0;
}

/* The 7-tap Gaussian of sigma 2, as OpenCV computes it and rounds it to floats (checked by
 * test_page_features.py against cv2.getGaussianKernel). */
static void gauss_weights(float k[7]) {
    double g[7], sum = 0.0;
    for (int i = 0; i < 7; i++) {
        g[i] = exp(-(double)((i - 3) * (i - 3)) / 8.0);
        sum += g[i];
    }
    for (int i = 0; i < 7; i++) {
        k[i] = (float)(g[i] / sum);
    }
}

/* a * b + c rounded once, as a fused multiply-add: exact here through doubles, the product
 * of two floats and the sums of these positive blur terms fitting in a double's 53 bits */
static float fma_f(float a, float b, float c) { return (float)((double)a * (double)b + (double)c); }

/* GaussianBlur(7 x 7, sigma 2, BORDER_REFLECT_101) in place as OpenCV runs it on a pyramid
 * level: a part of a larger buffer, so not its bit-exact fixed-point path but its generic
 * separable filter in floats, reading the border around the level, with fused multiply-adds
 * as its AVX2 build runs on today's x86 processors (the row's terms in order, then the
 * column's centre and its pairs of rows). Returns 0, or -1 out of memory. */
static int blur_level(Level *l) {
    float k[7];
    gauss_weights(k);
    float *tmp = malloc((size_t)(l->h + 6) * (size_t)l->w * sizeof(float));
    if (tmp == NULL) {
        return -1;
    }
    for (int y = -3; y < l->h + 3; y++) {
        const uint8_t *row = l->px + (ptrdiff_t)y * l->stride;
        float *t = tmp + (size_t)(y + 3) * l->w;
        for (int x = 0; x < l->w; x++) {
            float s = 0.f;
            for (int j = 0; j < 7; j++) {
                s = fma_f(k[j], (float)row[x + j - 3], s);
            }
            t[x] = s;
        }
    }
    for (int y = 0; y < l->h; y++) {
        uint8_t *out = l->px + (ptrdiff_t)y * l->stride;
        const float *mid = tmp + (size_t)(y + 3) * l->w;
        for (int x = 0; x < l->w; x++) {
            float s = k[3] * mid[x];
            for (int j = 1; j <= 3; j++) {
                const float pair = mid[x + (ptrdiff_t)j * l->w] + mid[x - (ptrdiff_t)j * l->w];
                s = fma_f(k[3 + j], pair, s);
            }
            const int v = f_roundf(s);
            out[x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
    free(tmp);
    return 0;
}

/* ------------------------------------------------------------------------------------ FAST */

/* The 16 pixels of the radius-3 circle, in order around it. */
static const int CIRCLE[16][2] = {{0, 3},  {1, 3},   {2, 2},   {3, 1},   {3, 0},  {3, -1},
                                  {2, -2}, {1, -3},  {0, -3},  {-1, -3}, {-2, -2}, {-3, -1},
                                  {-3, 0}, {-3, 1},  {-2, 2},  {-1, 3}};

/* FAST-9 score of a pixel: 0 when it is no corner; else the largest threshold at which it
 * still is one (9 contiguous circle pixels all brighter or all darker by more than it),
 * less one, as OpenCV scores it. */
static int fast_score(const uint8_t *p, const int *ofs, int threshold) {
    int d[16];
    const int v = p[0];
    unsigned bright = 0, dark = 0;
    /* an arc of 9 holds two of the four pixels a quarter turn apart: most pixels stop here */
    int brighter = 0, darker = 0;
    for (int k = 0; k < 16; k += 4) {
        const int e = v - p[ofs[k]];
        brighter += e < -threshold;
        darker += e > threshold;
    }
    if (brighter < 2 && darker < 2) {
        return 0;
    }
    for (int k = 0; k < 16; k++) {
        d[k] = v - p[ofs[k]];
        if (d[k] < -threshold) {
            bright |= 1u << k;
        } else if (d[k] > threshold) {
            dark |= 1u << k;
        }
    }
    unsigned b = bright | bright << 16, a = dark | dark << 16, rb = b, ra = a;
    for (int s = 1; s < 9; s++) {
        rb &= b >> s;
        ra &= a >> s;
    }
    if (((rb | ra) & 0xffffu) == 0) {
        return 0;
    }
    int best = threshold;
    for (int start = 0; start < 16; start++) {
        int lo = 1 << 30, hi = -(1 << 30);
        for (int s = 0; s < 9; s++) {
            const int e = d[(start + s) & 15];
            lo = e < lo ? e : lo;
            hi = e > hi ? e : hi;
        }
        best = lo > best ? lo : best;
        best = -hi > best ? -hi : best;
    }
    return best - 1;
}

/* FAST corners of a level with non-maximum suppression, inside ORB's border and the mask. */
static int fast_level(const Level *l, Keypoint **out, int *count) {
    const int w = l->w, h = l->h;
    *out = NULL;
    *count = 0;
    if (w <= 2 * F_EDGE || h <= 2 * F_EDGE) {
        return 0;
    }
    uint8_t *score = calloc((size_t)w * h, 1);
    int ofs[16];
    for (int k = 0; k < 16; k++) {
        ofs[k] = CIRCLE[k][1] * l->stride + CIRCLE[k][0];
    }
    if (score == NULL) {
        return -1;
    }
    /* scores where a kept corner or its neighbours can be */
    for (int y = F_EDGE - 1; y <= h - F_EDGE; y++) {
        for (int x = F_EDGE - 1; x <= w - F_EDGE; x++) {
            score[(size_t)y * w + x] =
                (uint8_t)fast_score(l->px + (ptrdiff_t)y * l->stride + x, ofs, F_FAST);
        }
    }
    int cap = 1024, n = 0;
    Keypoint *kp = malloc((size_t)cap * sizeof(Keypoint));
    for (int y = F_EDGE; y < h - F_EDGE && kp != NULL; y++) {
        for (int x = F_EDGE; x < w - F_EDGE; x++) {
            const uint8_t *s = score + (size_t)y * w + x;
            const int v = s[0];
            if (v == 0 || v <= s[-1] || v <= s[1] || v <= s[-w - 1] || v <= s[-w] ||
                v <= s[-w + 1] || v <= s[w - 1] || v <= s[w] || v <= s[w + 1]) {
                continue;
            }
            if (l->mask && l->mask[(size_t)y * w + x] == 0) {
                continue;
            }
            if (n == cap) {
                cap *= 2;
                Keypoint *more = realloc(kp, (size_t)cap * sizeof(Keypoint));
                if (more == NULL) {
                    free(kp);
                    kp = NULL;
                    break;
                }
                kp = more;
            }
            memset(&kp[n], 0, sizeof(Keypoint));
            kp[n].lx = x;
            kp[n].ly = y;
            kp[n].response = (float)v;
            n++;
        }
    }
    free(score);
    if (kp == NULL) {
        return -1;
    }
    *out = kp;
    *count = n;
    return 0;
}

static int desc_float(const void *a, const void *b) {
    const float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

/* KeyPointsFilter::retainBest: all the keypoints whose response is at least the n-th best's. */
static int retain_best(Keypoint *kp, int count, int n) {
    if (count <= n) {
        return count;
    }
    if (n <= 0) {
        return 0;
    }
    float *r = malloc((size_t)count * sizeof(float));
    if (r == NULL) {
        return -1;
    }
    for (int i = 0; i < count; i++) {
        r[i] = kp[i].response;
    }
    qsort(r, (size_t)count, sizeof(float), desc_float);
    const float bar = r[n - 1];
    free(r);
    int kept = 0;
    for (int i = 0; i < count; i++) {
        if (kp[i].response >= bar) {
            kp[kept++] = kp[i];
        }
    }
    return kept;
}

/* ------------------------------------------------------------- Harris, angle, descriptor */

static float harris(const Level *l, int x, int y) {
    const int step = l->stride;
    int a = 0, b = 0, c = 0;
    for (int i = -3; i <= 3; i++) {
        for (int j = -3; j <= 3; j++) {
            const uint8_t *p = l->px + (ptrdiff_t)(y + i) * step + x + j;
            const int ix = (p[1] - p[-1]) * 2 + (p[-step + 1] - p[-step - 1]) +
                           (p[step + 1] - p[step - 1]);
            const int iy = (p[step] - p[-step]) * 2 + (p[step - 1] - p[-step - 1]) +
                           (p[step + 1] - p[-step + 1]);
            a += ix * ix;
            b += iy * iy;
            c += ix * iy;
        }
    }
    float scale = 1.f / ((1 << 2) * 7 * 255.f);
    scale = scale * scale * scale * scale;
    return ((float)a * (float)b - (float)c * (float)c -
            0.04f * ((float)a + (float)b) * ((float)a + (float)b)) *
           scale;
}

/* OpenCV's fastAtan2: degrees in [0, 360), a polynomial good to about 0.3 degree. */
static float fast_atan2(float y, float x) {
    const float deg = (float)(180 / 3.14159265358979323846);
    const float p1 = 0.9997878412794807f * deg, p3 = -0.3258083974640975f * deg;
    const float p5 = 0.1555786518463281f * deg, p7 = -0.04432655554792128f * deg;
    const float ax = fabsf(x), ay = fabsf(y);
    float a, c, c2;
    if (ax >= ay) {
        c = ay / (ax + (float)DBL_EPSILON);
        c2 = c * c;
        a = (((p7 * c2 + p5) * c2 + p3) * c2 + p1) * c;
    } else {
        c = ax / (ay + (float)DBL_EPSILON);
        c2 = c * c;
        a = 90.f - (((p7 * c2 + p5) * c2 + p3) * c2 + p1) * c;
    }
    if (x < 0) {
        a = 180.f - a;
    }
    if (y < 0) {
        a = 360.f - a;
    }
    return a;
}

/* Half-widths of the circular patch's rows (the disc of radius 15, made symmetric). */
static void patch_rows(int umax[F_HALF + 2]) {
    const int vmax = (int)floorf(F_HALF * sqrtf(2.f) / 2 + 1);
    const int vmin = (int)ceilf(F_HALF * sqrtf(2.f) / 2);
    for (int v = 0; v <= vmax; v++) {
        umax[v] = f_round(sqrt((double)F_HALF * F_HALF - v * v));
    }
    for (int v = F_HALF, v0 = 0; v >= vmin; v--) {
        while (umax[v0] == umax[v0 + 1]) {
            v0++;
        }
        umax[v] = v0;
        v0++;
    }
}

/* The intensity centroid's direction over the circular patch, in degrees. */
static float ic_angle(const Level *l, int x, int y, const int *umax) {
    const uint8_t *c = l->px + (ptrdiff_t)y * l->stride + x;
    const int step = l->stride;
    int m01 = 0, m10 = 0;
    for (int u = -F_HALF; u <= F_HALF; u++) {
        m10 += u * c[u];
    }
    for (int v = 1; v <= F_HALF; v++) {
        int sum = 0;
        const int d = umax[v];
        for (int u = -d; u <= d; u++) {
            const int plus = c[u + v * step], minus = c[u - v * step];
            sum += plus - minus;
            m10 += u * (plus + minus);
        }
        m01 += v * sum;
    }
    return fast_atan2((float)m01, (float)m10);
}

/* Steered BRIEF on a smoothed level at (cx, cy): each pattern point turned by the angle and
 * rounded to a pixel; bit i is set where the first point is darker than the second. */
static void describe(const Level *l, int cx, int cy, float angle, uint8_t *out) {
    const float rad = angle * (float)(3.14159265358979323846 / 180.f);
    const float a = (float)cos((double)rad), b = (float)sin((double)rad);
    const uint8_t *c = l->px + (ptrdiff_t)cy * l->stride + cx;
    const int step = l->stride;
    for (int i = 0; i < F_DESC; i++) {
        int byte = 0;
        for (int bit = 0; bit < 8; bit++) {
            const signed char *p = ORB_PATTERN[i * 8 + bit];
            int v[2];
            for (int q = 0; q < 2; q++) {
                const float px = (float)p[2 * q], py = (float)p[2 * q + 1];
                const float x = px * a - py * b, y = px * b + py * a;
                v[q] = c[f_roundf(y) * step + f_roundf(x)];
            }
            byte |= (v[0] < v[1]) << bit;
        }
        out[i] = (uint8_t)byte;
    }
}

/* ------------------------------------------------------------------------------ page mask */

/* features._off_page: NULL (everywhere) or where keypoints may be found (255) on a page. */
static int off_page(const uint8_t *g, int w, int h, uint8_t **mask) {
    size_t counts[256] = {0};
    const size_t n = (size_t)w * h;
    *mask = NULL;
    for (size_t i = 0; i < n; i++) {
        counts[g[i]]++;
    }
    int level = 0;
    for (int v = 1; v < 256; v++) {
        level = counts[v] > counts[level] ? v : level;
    }
    size_t near = 0;
    for (int v = level - F_PAGE_TOLERANCE; v <= level + F_PAGE_TOLERANCE; v++) {
        near += v >= 0 && v < 256 ? counts[v] : 0;
    }
    if ((double)near / (double)n < 0.25) {
        return 0;
    }
    const int rows = (h + F_BLOCK - 1) / F_BLOCK, cols = (w + F_BLOCK - 1) / F_BLOCK;
    uint8_t *content = malloc((size_t)rows * cols);
    if (content == NULL) {
        return -1;
    }
    size_t contents = 0;
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
            int hits = 0;
            for (int y = r * F_BLOCK; y < (r + 1) * F_BLOCK && y < h; y++) {
                for (int x = c * F_BLOCK; x < (c + 1) * F_BLOCK && x < w; x++) {
                    hits += abs(g[(size_t)y * w + x] - level) <= F_PAGE_TOLERANCE;
                }
            }
            content[r * cols + c] = (double)hits / (F_BLOCK * F_BLOCK) < 0.4;
            contents += content[r * cols + c];
        }
    }
    if ((double)contents / (double)(rows * cols) < 0.08) {
        free(content);
        return 0;
    }
    *mask = malloc(n);
    if (*mask == NULL) {
        free(content);
        return -1;
    }
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            (*mask)[(size_t)y * w + x] = content[(y / F_BLOCK) * cols + x / F_BLOCK] ? 255 : 0;
        }
    }
    free(content);
    return 0;
}

/* --------------------------------------------------------------------------------- output */

static int by_response(const void *a, const void *b) {
    const Keypoint *p = a, *q = b;
    if (p->response != q->response) {
        return p->response < q->response ? 1 : -1;
    }
    if (p->level != q->level) {
        return p->level - q->level;
    }
    if (p->ly != q->ly) {
        return p->ly - q->ly;
    }
    return p->lx - q->lx;
}

static void put_u16(uint8_t *p, int v) {
    p[0] = (uint8_t)(v & 255);
    p[1] = (uint8_t)(v >> 8);
}

static int quarters(float v) {
    const float q = rintf(v * 4.f);
    return q < 0.f ? 0 : q > 65535.f ? 65535 : (int)q;
}

/* The grid check points of a w x h byte image that are not flat (features._check_points'
 * choice, before ORB's border filter): their count, written as (x, y) pairs to `xy`. */
static int check_grid(const uint8_t *g, int w, int h, int *xy) {
    const int reach = F_CHECK_REACH, side = 2 * reach + 1;
    const double inv = 1.0 / (side * side);
    int n = 0;
    for (int y = reach; y < h - reach; y += F_CHECK_STEP) {
        for (int x = reach; x < w - reach; x += F_CHECK_STEP) {
            long sum = 0, squares = 0;
            for (int i = -reach; i <= reach; i++) {
                const uint8_t *row = g + (size_t)(y + i) * w + x;
                for (int j = -reach; j <= reach; j++) {
                    sum += row[j];
                    squares += row[j] * row[j];
                }
            }
            const float mean = (float)((double)sum * inv), square = (float)((double)squares * inv);
            float var = square - mean * mean;
            var = var > 0.f ? var : 0.f;
            if (sqrtf(var) >= 6.0f) {
                xy[2 * n] = x;
                xy[2 * n + 1] = y;
                n++;
            }
        }
    }
    return n;
}

/* The features of a luma (width x height floats, the CLI's), its `limit` strongest keypoints
 * (1 to F_MAX: extract_features' `limit`), written to `out` as
 * LocalFeatures.to_bytes writes them. Returns the blob's length, -1 out of memory, or -2
 * when `cap` bytes are too few (F_BLOB_MAX always suffice). */
#define F_BLOB_MAX (8 + F_MAX * (6 + F_DESC) + 2 + 17 * 17 * (4 + F_DESC))

static int features_blob(const float *luma, int width, int height, int checks, int limit,
                         uint8_t *out, int cap) {
    int status = -1, count = 0, total = 0, nchecks = 0, w = width, h = height;
    uint8_t *grey = NULL, *mask = NULL;
    Level levels[F_LEVELS];
    Keypoint *all = NULL;
    int *grid = NULL;
    int nlevels = 0;
    const int longest = width > height ? width : height;
    limit = limit < 1 ? 1 : limit > F_MAX ? F_MAX : limit;
    const double scale = F_SIDE / (double)(longest > 1 ? longest : 1);
    if (scale < 1.0) {
        w = (int)fmax(1.0, nearbyint(width * scale));
        h = (int)fmax(1.0, nearbyint(height * scale));
    }
    grey = malloc((size_t)w * h);
    if (grey == NULL) {
        return -1;
    }
    if (scale < 1.0) {
        if (resize_area(luma, width, height, grey, w, h) != 0) {
            goto done;
        }
    } else {
        grey_row(luma, width * height, grey);
    }
    if (off_page(grey, w, h, &mask) != 0) {
        goto done;
    }
    if (w > 2 * F_EDGE && h > 2 * F_EDGE) {
        nlevels = F_LEVELS;
        if (build_pyramid(grey, mask, w, h, nlevels, levels) != 0) {
            goto done;
        }
        /* features per level: a geometric share of the total */
        int per_level[F_LEVELS], sum = 0;
        const float factor = (float)(1.0 / F_SCALE_FACTOR);
        float desired = limit * (1 - factor) / (1 - (float)pow((double)factor, F_LEVELS));
        for (int i = 0; i < F_LEVELS - 1; i++) {
            per_level[i] = f_roundf(desired);
            sum += per_level[i];
            desired *= factor;
        }
        per_level[F_LEVELS - 1] = limit - sum > 0 ? limit - sum : 0;
        int umax[F_HALF + 2];
        patch_rows(umax);
        for (int i = 0; i < nlevels; i++) {
            Keypoint *kp;
            int n;
            if (fast_level(&levels[i], &kp, &n) != 0) {
                goto done;
            }
            n = retain_best(kp, n, 2 * per_level[i]);
            for (int k = 0; k < n; k++) {
                kp[k].level = i;
                kp[k].response = harris(&levels[i], kp[k].lx, kp[k].ly);
            }
            n = n < 0 ? n : retain_best(kp, n, per_level[i]);
            Keypoint *grown = n > 0 ? realloc(all, (size_t)(total + n) * sizeof(Keypoint)) : all;
            if (n < 0 || (n > 0 && grown == NULL)) {
                free(kp);
                goto done;
            }
            all = grown;
            for (int k = 0; k < n; k++) {
                Keypoint *p = &kp[k];
                p->angle = ic_angle(&levels[i], p->lx, p->ly, umax);
                p->x = (float)p->lx * levels[i].scale;
                p->y = (float)p->ly * levels[i].scale;
                all[total++] = *p;
            }
            free(kp);
        }
    }
    count = total < limit ? total : limit;
    if (count > 0 && checks) {
        grid = malloc((size_t)((w / F_CHECK_STEP + 1) * (h / F_CHECK_STEP + 1)) * 2 * sizeof(int));
        if (grid == NULL) {
            goto done;
        }
        const int found = check_grid(grey, w, h, grid);
        for (int i = 0; i < found; i++) { /* ORB's border filter, in the picture's pixels */
            const int x = grid[2 * i], y = grid[2 * i + 1];
            if (x >= F_EDGE && x < w - F_EDGE && y >= F_EDGE && y < h - F_EDGE) {
                grid[2 * nchecks] = x;
                grid[2 * nchecks + 1] = y;
                nchecks++;
            }
        }
    }
    const int length = 8 + count * (6 + F_DESC) + 2 + nchecks * (4 + F_DESC);
    if (length > cap) {
        status = -2;
        goto done;
    }
    for (int i = 0; i < nlevels; i++) {
        if (blur_level(&levels[i]) != 0) {
            goto done;
        }
    }
    qsort(all, (size_t)total, sizeof(Keypoint), by_response);
    out[0] = 2;
    out[1] = 0;
    put_u16(out + 2, count);
    put_u16(out + 4, w);
    put_u16(out + 6, h);
    uint8_t *at = out + 8, *steps = at + 4 * count, *octaves = steps + count;
    uint8_t *desc = octaves + count;
    for (int i = 0; i < count; i++) {
        const Keypoint *p = &all[i];
        const Level *l = &levels[p->level];
        const float inv = 1.f / l->scale;
        put_u16(at + 4 * i, quarters(p->x));
        put_u16(at + 4 * i + 2, quarters(p->y));
        const long step = (long)rintf(p->angle * 256.f / 360.f);
        steps[i] = (uint8_t)(((step % 256) + 256) % 256);
        octaves[i] = (uint8_t)p->level;
        describe(l, f_roundf(p->x * inv), f_roundf(p->y * inv), p->angle, desc + F_DESC * i);
    }
    uint8_t *tail = desc + F_DESC * count;
    put_u16(tail, nchecks);
    uint8_t *cdesc = tail + 2 + 4 * nchecks;
    const Level *cl = &levels[F_CHECK_LEVEL];
    const float cinv = 1.f / (nlevels ? cl->scale : 1.f);
    for (int i = 0; i < nchecks; i++) {
        const float x = (float)grid[2 * i], y = (float)grid[2 * i + 1];
        put_u16(tail + 2 + 4 * i, quarters(x));
        put_u16(tail + 4 + 4 * i, quarters(y));
        describe(cl, f_roundf(x * cinv), f_roundf(y * cinv), 0.f, cdesc + F_DESC * i);
    }
    status = length;
done:
    free_levels(levels, nlevels);
    free(all);
    free(grid);
    free(mask);
    free(grey);
    return status;
}
