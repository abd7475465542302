/*
 * The victim's offline page's numeric kernel, built to WebAssembly by build_kernel.py: the
 * same PDQ arithmetic as the CLI (../../hashing/_pdqkernel.h), the CLI's luma, block means,
 * smoothing and coarse grids (Pillow's bicubic and box resampling of float images), streaming
 * MD5 and SHA-256, and the local features (ORB keypoints, descriptors and check points: orb.h).
 *
 * Owns arithmetic on buffers the page hands it; must not decode images (the browser does)
 * nor keep anything between calls but the DCT matrix. Also built natively for the tests.
 */

#include "../../hashing/_pdqkernel.h"
#include "orb.h"

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#define EXPORT EMSCRIPTEN_KEEPALIVE
#else
#define EXPORT
#endif

#define PDQ_MEDIAN_RANK 127 /* the reference thresholds at the lower median */
#define MIN_HASHABLE_SIDE 5

EXPORT void *k_alloc(size_t n) { return malloc(n); }

EXPORT void k_free(void *p) { free(p); }

EXPORT void k_init(void) { pdq_init(); }

/* The CLI's RGB luma (decode.py, float64 arithmetic stored as float32) of 4-byte pixels,
 * RGBA or, with `bgr`, BGRA/BGRX; alpha is dropped as Pillow's convert("RGB") drops it. Each
 * product is looked up: the same doubles as multiplying, without the conversions. */
EXPORT void k_luma(const uint8_t *pixels4, float *out, size_t pixels, int bgr) {
    double red[256], green[256], blue[256];
    for (int v = 0; v < 256; v++) {
        red[v] = (double)v * 0.299;
        green[v] = (double)v * 0.587;
        blue[v] = (double)v * 0.114;
    }
    const int r = bgr ? 2 : 0, b = bgr ? 0 : 2;
    for (size_t i = 0; i < pixels; i++) {
        const uint8_t *p = pixels4 + 4 * i;
        out[i] = (float)(red[p[r]] + green[p[1]] + blue[p[b]]);
    }
}

/* Where the raw picture's pixel (r, c) is shown, for an EXIF orientation (decode.py's
 * table); the shown picture is height x width, the raw one rh x rw (swapped for 5-8). */
static void shown_at(int orientation, int r, int c, int height, int width, int rh, int rw,
                     int *i, int *j) {
    switch (orientation) {
    case 2: *i = r; *j = width - 1 - c; break;
    case 3: *i = height - 1 - r; *j = width - 1 - c; break;
    case 4: *i = height - 1 - r; *j = c; break;
    case 5: *i = c; *j = r; break;
    case 6: *i = c; *j = rh - 1 - r; break;
    case 7: *i = rw - 1 - c; *j = rh - 1 - r; break;
    case 8: *i = rw - 1 - c; *j = r; break;
    default: *i = r; *j = c; break;
    }
}

/* The picture as stored (`raw`, before its EXIF orientation 2-8 was applied) from the
 * picture as shown (`shown`, height x width). */
EXPORT void k_unorient(const float *shown, int height, int width, int orientation, float *raw) {
    const int swap = orientation >= 5;
    const int rh = swap ? width : height, rw = swap ? height : width;
    for (int r = 0; r < rh; r++) {
        for (int c = 0; c < rw; c++) {
            int i, j;
            shown_at(orientation, r, c, height, width, rh, rw, &i, &j);
            raw[(size_t)r * rw + c] = shown[(size_t)i * width + j];
        }
    }
}

/* The picture as shown (height x width) from the picture as stored: k_unorient undone. */
EXPORT void k_orient(const float *raw, int height, int width, int orientation, float *shown) {
    const int swap = orientation >= 5;
    const int rh = swap ? width : height, rw = swap ? height : width;
    for (int r = 0; r < rh; r++) {
        for (int c = 0; c < rw; c++) {
            int i, j;
            shown_at(orientation, r, c, height, width, rh, rw, &i, &j);
            shown[(size_t)i * width + j] = raw[(size_t)r * rw + c];
        }
    }
}

static int compare_floats(const void *a, const void *b) {
    const float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* PDQ of a window (nrows x ncols, rows `stride` floats apart) into out[0..31], hex order
 * (bit 255 first, as pdq.py packs it). Returns the quality (0-100), or -1 out of memory. */
EXPORT int k_pdq(const float *luma, int nrows, int ncols, int stride, uint8_t *out) {
    float (*out64)[OUT][OUT] = malloc(4 * sizeof *out64);
    float coeffs[DCT][DCT], sorted[DCT * DCT];
    if (out64 == NULL) {
        return -1;
    }
    if (pdq_downsample(luma, 0, nrows, ncols, stride, 0, out64) != 0) {
        free(out64);
        return -1;
    }
    int quality = quality_metric(out64[0]);
    dct64_to_16(out64[0], coeffs);
    free(out64);
    memcpy(sorted, coeffs, sizeof sorted);
    qsort(sorted, DCT * DCT, sizeof(float), compare_floats);
    const float median = sorted[PDQ_MEDIAN_RANK];
    const float *flat = &coeffs[0][0];
    memset(out, 0, 32);
    for (int k = 0; k < DCT * DCT; k++) {
        if (flat[k] > median) {
            const int from_top = 255 - k; /* position in the hex string's bit order */
            out[from_top / 8] |= (uint8_t)(0x80 >> (from_top % 8));
        }
    }
    if (nrows < MIN_HASHABLE_SIDE || ncols < MIN_HASHABLE_SIDE) {
        quality = 0;
    }
    return quality;
}

/* windows.py's _block_mean of float luma: factor x factor block means, summed down each
 * block's rows first, then along them (float32, as numpy sums them). */
EXPORT void k_block_mean(const float *luma, int height, int width, int factor, float *out) {
    const int rows = height / factor, cols = width / factor;
    float *line = malloc((size_t)cols * (size_t)factor * sizeof(float));
    if (line == NULL) {
        return;
    }
    for (int r = 0; r < rows; r++) {
        memcpy(line, luma + (size_t)r * factor * width, (size_t)cols * factor * sizeof(float));
        for (int k = 1; k < factor; k++) {
            const float *row = luma + ((size_t)r * factor + k) * width;
            for (int c = 0; c < cols * factor; c++) {
                line[c] += row[c];
            }
        }
        for (int c = 0; c < cols; c++) {
            float sum = 0.0f;
            for (int k = 0; k < factor; k++) {
                sum += line[c * factor + k];
            }
            out[(size_t)r * cols + c] = (float)((double)sum / (double)(factor * factor));
        }
    }
    free(line);
}

/* ------------------------------------------------------------- Pillow's resampling (F mode) */

static double bicubic(double x) {
    const double a = -0.5;
    if (x < 0.0) {
        x = -x;
    }
    if (x < 1.0) {
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    }
    if (x < 2.0) {
        return (((x - 5) * x + 8) * x - 4) * a;
    }
    return 0.0;
}

/* Pillow's BOX filter: 1 on (-0.5, 0.5], the half-open side as Resample.c has it (it decides
 * which pixel a cell edge falling exactly on a pixel's centre takes). */
static double box(double x) { return x > -0.5 && x <= 0.5 ? 1.0 : 0.0; }

typedef double (*Filter)(double);

/* Pillow's precompute_coeffs (Resample.c) for a filter of the given support (bicubic: 2, box:
 * 0.5); the box edges are floats there too. Returns ksize, or 0 out of memory. */
static int coeffs(int in_size, float in0, float in1, int out_size, Filter filter,
                  double filter_support, int **boundsp, double **kkp) {
    double scale = (double)(in1 - in0) / out_size, filterscale = scale;
    if (filterscale < 1.0) {
        filterscale = 1.0;
    }
    const double support = filter_support * filterscale;
    const int ksize = (int)ceil(support) * 2 + 1;
    double *kk = malloc((size_t)out_size * (size_t)ksize * sizeof(double));
    int *bounds = malloc((size_t)out_size * 2 * sizeof(int));
    if (kk == NULL || bounds == NULL) {
        free(kk);
        free(bounds);
        return 0;
    }
    for (int xx = 0; xx < out_size; xx++) {
        const double center = in0 + (xx + 0.5) * scale;
        const double ss = 1.0 / filterscale;
        double ww = 0.0;
        int xmin = (int)(center - support + 0.5);
        if (xmin < 0) {
            xmin = 0;
        }
        int xmax = (int)(center + support + 0.5);
        if (xmax > in_size) {
            xmax = in_size;
        }
        xmax -= xmin;
        double *k = &kk[xx * ksize];
        int x;
        for (x = 0; x < xmax; x++) {
            const double w = filter((x + xmin - center + 0.5) * ss);
            k[x] = w;
            ww += w;
        }
        for (x = 0; x < xmax; x++) {
            if (ww != 0.0) {
                k[x] /= ww;
            }
        }
        for (; x < ksize; x++) {
            k[x] = 0;
        }
        bounds[xx * 2] = xmin;
        bounds[xx * 2 + 1] = xmax;
    }
    *boundsp = bounds;
    *kkp = kk;
    return ksize;
}

/* Pillow's Image.resize((out_w, out_h), filter, box) of a float image (width x height), box
 * = (left, top, right, bottom): the horizontal pass over the rows the vertical pass reads,
 * then the vertical pass, each skipped where its side keeps its size and its whole span
 * (then the numbers pass unchanged, as Pillow copies them). Returns 0, or -1 out of memory. */
static int resample(const float *image, int width, int height, const float box4[4], int out_w,
                    int out_h, Filter filter, double support, float *out) {
    int *bh = NULL, *bv = NULL;
    double *kh = NULL, *kv = NULL;
    float *temp = NULL;
    int status = -1;
    const int kszh = coeffs(width, box4[0], box4[2], out_w, filter, support, &bh, &kh);
    const int kszv = coeffs(height, box4[1], box4[3], out_h, filter, support, &bv, &kv);
    if (kszh == 0 || kszv == 0) {
        goto done;
    }
    const int first = bv[0], last = bv[out_h * 2 - 2] + bv[out_h * 2 - 1];
    const float *in = image;
    int in_width = width, in_first = 0;
    if (out_w != width || box4[0] != 0.0f || box4[2] != (float)width) {
        temp = malloc((size_t)out_w * (size_t)(last - first) * sizeof(float));
        if (temp == NULL) {
            goto done;
        }
        for (int yy = 0; yy < last - first; yy++) {
            const float *row = image + (size_t)(yy + first) * width;
            for (int xx = 0; xx < out_w; xx++) {
                const double *k = &kh[xx * kszh];
                const float *x0 = row + bh[xx * 2];
                double ss = 0.0;
                for (int x = 0; x < bh[xx * 2 + 1]; x++) {
                    ss += x0[x] * k[x];
                }
                temp[(size_t)yy * out_w + xx] = (float)ss;
            }
        }
        in = temp;
        in_width = out_w;
        in_first = first; /* temp's row 0 is the image's row `first` */
    }
    if (out_h != height || box4[1] != 0.0f || box4[3] != (float)height) {
        for (int yy = 0; yy < out_h; yy++) {
            const double *k = &kv[yy * kszv];
            const int y0 = bv[yy * 2] - in_first;
            for (int xx = 0; xx < in_width; xx++) {
                double ss = 0.0;
                for (int y = 0; y < bv[yy * 2 + 1]; y++) {
                    ss += in[(size_t)(y0 + y) * in_width + xx] * k[y];
                }
                out[(size_t)yy * out_w + xx] = (float)ss;
            }
        }
    } else {
        memcpy(out, in, (size_t)out_w * (size_t)out_h * sizeof(float));
    }
    status = 0;
done:
    free(bh);
    free(bv);
    free(kh);
    free(kv);
    free(temp);
    return status;
}

/* Pillow's Image.resize((size, size), BICUBIC, box) of a float image (width x height). */
EXPORT int k_resize(const float *image, int width, int height, float left, float top,
                    float right, float bottom, int size, float *out) {
    const float box4[4] = {left, top, right, bottom};
    return resample(image, width, height, box4, size, size, bicubic, 2.0, out);
}

/* k_resize of `count` boxes (left, top, right, bottom each, as floats) of one image into
 * out[k * size * size]: the same numbers, but the horizontal pass is made once for all the
 * rows and shared by the boxes with the same left and right edges (the registration crops
 * have 11 distinct pairs among 65). Returns 0, or -1 out of memory. */
EXPORT int k_resize_many(const float *image, int width, int height, int count,
                         const float *boxes, int size, float *out) {
    float *temp = malloc((size_t)size * (size_t)height * sizeof(float));
    char *done = calloc((size_t)count, 1);
    int status = temp != NULL && done != NULL ? 0 : -1;
    for (int k = 0; k < count && status == 0; k++) {
        if (done[k]) {
            continue;
        }
        const float left = boxes[4 * k], right = boxes[4 * k + 2];
        const int need_h = size != width || left != 0.0f || right != (float)size;
        if (!need_h) { /* as k_resize: nothing to share */
            status = k_resize(image, width, height, left, boxes[4 * k + 1], right,
                              boxes[4 * k + 3], size, out + (size_t)k * size * size);
            done[k] = 1;
            continue;
        }
        int *bh = NULL;
        double *kh = NULL;
        const int kszh = coeffs(width, left, right, size, bicubic, 2.0, &bh, &kh);
        if (kszh == 0) {
            status = -1;
            break;
        }
        for (int yy = 0; yy < height; yy++) {
            const float *row = image + (size_t)yy * width;
            for (int xx = 0; xx < size; xx++) {
                const double *w = &kh[xx * kszh];
                const float *x0 = row + bh[xx * 2];
                double ss = 0.0;
                for (int x = 0; x < bh[xx * 2 + 1]; x++) {
                    ss += x0[x] * w[x];
                }
                temp[(size_t)yy * size + xx] = (float)ss;
            }
        }
        free(bh);
        free(kh);
        for (int j = k; j < count && status == 0; j++) {
            if (done[j] || boxes[4 * j] != left || boxes[4 * j + 2] != right) {
                continue;
            }
            int *bv = NULL;
            double *kv = NULL;
            const int kszv = coeffs(height, boxes[4 * j + 1], boxes[4 * j + 3], size, bicubic, 2.0, &bv,
                                    &kv);
            if (kszv == 0) {
                status = -1;
                break;
            }
            float *dest = out + (size_t)j * size * size;
            for (int yy = 0; yy < size; yy++) {
                const double *w = &kv[yy * kszv];
                for (int xx = 0; xx < size; xx++) {
                    double ss = 0.0;
                    for (int y = 0; y < bv[yy * 2 + 1]; y++) {
                        ss += temp[(size_t)(y + bv[yy * 2]) * size + xx] * w[y];
                    }
                    dest[(size_t)yy * size + xx] = (float)ss;
                }
            }
            free(bv);
            free(kv);
            done[j] = 1;
        }
    }
    free(temp);
    free(done);
    return status;
}

#define COARSE_SIDE 64 /* mosaic.py's _RENDER_SIDE */

/* mosaic.py's coarse_view of the whole luma (width x height) into out[64 * 64]: area means
 * (Pillow's BOX) over `grid` cells across and max(2, round(grid * height / width)) down
 * (Python's round: halves to even), rendered at 64 x 64 with Pillow's BICUBIC; PDQ of it is
 * the coarse grid's hash. Returns 0, or -1 out of memory. */
EXPORT int k_coarse(const float *luma, int width, int height, int grid, float *out) {
    const double ratio = (double)grid * (double)height / (double)width;
    if (grid < 1 || width < 1 || height < 1 || ratio > 1.0e6) {
        return -1;
    }
    int down = (int)nearbyint(ratio);
    if (down < 2) {
        down = 2;
    }
    float *cells = malloc((size_t)grid * (size_t)down * sizeof(float));
    if (cells == NULL) {
        return -1;
    }
    const float whole[4] = {0.0f, 0.0f, (float)width, (float)height};
    const float spread[4] = {0.0f, 0.0f, (float)grid, (float)down};
    int status = resample(luma, width, height, whole, grid, down, box, 0.5, cells);
    if (status == 0) {
        status = resample(cells, grid, down, spread, COARSE_SIDE, COARSE_SIDE, bicubic, 2.0, out);
    }
    free(cells);
    return status;
}

/* ---------------------------------------------------------------------- local features */

/* The luma's local features as `rempart bank add` stores them (orb.h), its `limit` strongest
 * keypoints (500 for a picture, 200 for each of its windows: features.WINDOW_SHARE): the
 * blob's length, -1 out of memory, -2 if `cap` bytes are too few (k_features_max() always
 * suffice). */
EXPORT int k_features(const float *luma, int width, int height, int checks, int limit,
                      uint8_t *out, int cap) {
    return features_blob(luma, width, height, checks, limit, out, cap);
}

EXPORT int k_features_max(void) { return F_BLOB_MAX; }

/* ------------------------------------------------------------------------------ digests */

typedef struct {
    uint32_t state[8];
    uint64_t length;
    uint8_t block[64];
    size_t used;
    int sha256; /* 0: MD5 */
} Digest;

static uint32_t rotl(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }
static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static const uint32_t MD5_K[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
    0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
    0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
    0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
    0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
    0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
    0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
    0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
    0xeb86d391};
static const int MD5_S[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                              5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                              4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                              6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

static void md5_block(uint32_t *h, const uint8_t *p) {
    uint32_t m[16];
    for (int i = 0; i < 16; i++) {
        m[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
               (uint32_t)p[4 * i + 3] << 24;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    for (int i = 0; i < 64; i++) {
        uint32_t f;
        int g;
        if (i < 16) {
            f = (b & c) | (~b & d);
            g = i;
        } else if (i < 32) {
            f = (d & b) | (~d & c);
            g = (5 * i + 1) % 16;
        } else if (i < 48) {
            f = b ^ c ^ d;
            g = (3 * i + 5) % 16;
        } else {
            f = c ^ (b | ~d);
            g = (7 * i) % 16;
        }
        const uint32_t t = d;
        d = c;
        c = b;
        b = b + rotl(a + f + MD5_K[i] + m[g], MD5_S[i]);
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
}

static const uint32_t SHA_K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

static void sha_block(uint32_t *h, const uint8_t *p) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++) {
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    }
    for (int i = 16; i < 64; i++) {
        const uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        const uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        const uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) +
                            SHA_K[i] + w[i];
        const uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
}

/* One context hashes MD5 (kind 0) or SHA-256 (kind 1), fed in pieces of any size. */
EXPORT Digest *k_digest_new(int kind) {
    static const uint32_t md5_iv[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
    static const uint32_t sha_iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    Digest *d = calloc(1, sizeof(Digest));
    if (d != NULL) {
        memcpy(d->state, kind ? sha_iv : md5_iv, kind ? sizeof sha_iv : sizeof md5_iv);
        d->sha256 = kind != 0;
    }
    return d;
}

EXPORT void k_digest_update(Digest *d, const uint8_t *p, size_t n) {
    const int md5 = !d->sha256;
    d->length += n;
    while (n > 0) {
        size_t take = 64 - d->used;
        if (take > n) {
            take = n;
        }
        memcpy(d->block + d->used, p, take);
        d->used += take;
        p += take;
        n -= take;
        if (d->used == 64) {
            if (md5) {
                md5_block(d->state, d->block);
            } else {
                sha_block(d->state, d->block);
            }
            d->used = 0;
        }
    }
}

/* Writes the digest (16 or 32 bytes) to out and frees the context. */
EXPORT void k_digest_end(Digest *d, uint8_t *out) {
    const int md5 = !d->sha256;
    const uint64_t bits = d->length * 8;
    uint8_t pad[72] = {0x80};
    const size_t pad_len = (d->used < 56 ? 56 : 120) - d->used;
    uint8_t tail[8];
    for (int i = 0; i < 8; i++) {
        tail[i] = md5 ? (uint8_t)(bits >> (8 * i)) : (uint8_t)(bits >> (56 - 8 * i));
    }
    const uint64_t length = d->length;
    k_digest_update(d, pad, pad_len);
    k_digest_update(d, tail, 8);
    d->length = length;
    for (int i = 0; i < (md5 ? 4 : 8); i++) {
        for (int b = 0; b < 4; b++) {
            out[4 * i + b] = md5 ? (uint8_t)(d->state[i] >> (8 * b))
                                 : (uint8_t)(d->state[i] >> (24 - 8 * b));
        }
    }
    free(d);
}
