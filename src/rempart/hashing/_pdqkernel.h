/*
 * PDQ numeric core shared by the Python extension (_pdqcore.c) and the victim's offline page
 * (intake/page/kernel.c, built to WebAssembly): luma -> 64x64 Jarosz-filtered samples ->
 * 16x16 DCT and quality. Plain C: no Python, no allocation that outlives a call, no state
 * but the DCT matrix (pdq_init fills it once).
 *
 * The reference (ThreatExchange pdqhashing.cpp) box-filters the whole image four times
 * (rows, columns, rows, columns) and then keeps 64x64 samples. The filter is linear and
 * separable, so each kept sample is a fixed weighted sum: out = A . X . C^T, where row i
 * of A (64 x nrows) is the double box filter seen from sample row i, and likewise for C.
 * We build those banded weights exactly (in double), then apply them only where a sample
 * is taken. Cost is about one multiply-add per input pixel instead of four passes.
 */

#ifndef REMPART_PDQKERNEL_H
#define REMPART_PDQKERNEL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef ptrdiff_t pdq_ssize;

#define OUT 64  /* side of the decimated buffer */
#define DCT 16  /* side of the kept DCT block */

/* The banded weights of one dimension: for each of the 64 samples, `len[i]` weights that
 * apply to input indices start[i] .. start[i] + len[i] - 1. */
typedef struct {
    pdq_ssize start[OUT];
    pdq_ssize len[OUT];
    pdq_ssize max_len;
    float *w; /* OUT * max_len, row i at w + i * max_len */
} Band;

/* One box-filter output: reference box1DFloat averages in[o - a .. o + b], clipped. */
static void box_span(pdq_ssize o, pdq_ssize n, pdq_ssize a, pdq_ssize b,
                     pdq_ssize *lo, pdq_ssize *hi) {
    *lo = o - a < 0 ? 0 : o - a;
    *hi = o + b > n - 1 ? n - 1 : o + b;
}

/* Fill `band` for a dimension of length n. Returns 0, or -1 when memory runs out. */
static int band_build(Band *band, pdq_ssize n) {
    /* Reference: window = ceil(n / 128), half = (w + 2) / 2, b = half - 1, a = w - half. */
    const pdq_ssize win = (n + 2 * OUT - 1) / (2 * OUT);
    const pdq_ssize half = (win + 2) / 2;
    const pdq_ssize b = half - 1, a = win - half;
    const pdq_ssize max_len = 2 * win - 1;
    double *acc = malloc((size_t)max_len * sizeof(double));
    band->w = malloc((size_t)OUT * (size_t)max_len * sizeof(float));
    if (acc == NULL || band->w == NULL) {
        free(acc);
        free(band->w);
        band->w = NULL;
        return -1;
    }
    band->max_len = max_len;
    for (int i = 0; i < OUT; i++) {
        /* Same expression and types as the reference's decimateFloat. */
        const pdq_ssize r = (pdq_ssize)(((i + 0.5) * (double)n) / OUT);
        pdq_ssize lo_r, hi_r, first, last, lo_k, hi_k;
        box_span(r, n, a, b, &lo_r, &hi_r);
        box_span(lo_r, n, a, b, &first, &lo_k);
        box_span(hi_r, n, a, b, &lo_k, &last);
        memset(acc, 0, (size_t)max_len * sizeof(double));
        /* Second pass sees first-pass outputs k in [lo_r, hi_r], each an average itself. */
        for (pdq_ssize k = lo_r; k <= hi_r; k++) {
            box_span(k, n, a, b, &lo_k, &hi_k);
            const double wk = 1.0 / (double)((hi_r - lo_r + 1) * (hi_k - lo_k + 1));
            for (pdq_ssize m = lo_k; m <= hi_k; m++) {
                acc[m - first] += wk;
            }
        }
        band->start[i] = first;
        band->len[i] = last - first + 1;
        for (pdq_ssize m = 0; m < band->len[i]; m++) {
            band->w[i * max_len + m] = (float)acc[m];
        }
    }
    free(acc);
    return 0;
}

/* acc[c] += w * row[c]: the vertical pass's inner loop, kept trivially vectorizable. */
static void axpy_u8(float *restrict acc, const uint8_t *restrict row, float w, pdq_ssize n) {
    for (pdq_ssize c = 0; c < n; c++) {
        acc[c] += w * (float)row[c];
    }
}

static void axpy_f32(float *restrict acc, const float *restrict row, float w, pdq_ssize n) {
    for (pdq_ssize c = 0; c < n; c++) {
        acc[c] += w * row[c];
    }
}

/* Vertical pass: strip[i][c] = sum_k rows.w[i][k] * X[rows.start[i] + k][c], over the full
 * width so that the inner loop runs along contiguous memory. `strip` holds OUT * ncols;
 * input rows lie `stride` elements apart (a window of a larger image). */
static void vertical(const void *data, int is_u8, pdq_ssize ncols, pdq_ssize stride,
                     const Band *rows, float *strip) {
    for (int i = 0; i < OUT; i++) {
        float *acc = strip + (size_t)i * (size_t)ncols;
        memset(acc, 0, (size_t)ncols * sizeof(float));
        const float *w = rows->w + i * rows->max_len;
        for (pdq_ssize k = 0; k < rows->len[i]; k++) {
            const size_t offset = (size_t)(rows->start[i] + k) * (size_t)stride;
            if (is_u8) {
                axpy_u8(acc, (const uint8_t *)data + offset, w[k], ncols);
            } else {
                axpy_f32(acc, (const float *)data + offset, w[k], ncols);
            }
        }
    }
}

/* Horizontal pass on the 64-row strip: out[i][j] = sum_k cols.w[j][k] * strip[i][start + k]. */
static void horizontal(const float *strip, pdq_ssize ncols, const Band *cols,
                       float out[OUT][OUT]) {
    for (int i = 0; i < OUT; i++) {
        const float *acc = strip + (size_t)i * (size_t)ncols;
        for (int j = 0; j < OUT; j++) {
            const float *w = cols->w + j * cols->max_len;
            const float *x = acc + cols->start[j];
            float sum = 0.0f;
            for (pdq_ssize k = 0; k < cols->len[j]; k++) {
                sum += w[k] * x[k];
            }
            out[i][j] = sum;
        }
    }
}

/* The band of the same dimension read back to front: what the filter does to a flipped
 * image. Not a mirror of the original band, because the reference's box window is
 * asymmetric for even widths and its sample points are not centred, which is why hashing a
 * flipped image is not exactly a sign change of the DCT. Returns 0, or -1 (no memory). */
static int band_reverse(const Band *band, pdq_ssize n, Band *out) {
    out->max_len = band->max_len;
    out->w = malloc((size_t)OUT * (size_t)band->max_len * sizeof(float));
    if (out->w == NULL) {
        return -1;
    }
    for (int i = 0; i < OUT; i++) {
        const pdq_ssize len = band->len[i];
        out->len[i] = len;
        out->start[i] = n - (band->start[i] + len);
        for (pdq_ssize k = 0; k < len; k++) {
            out->w[i * band->max_len + k] = band->w[i * band->max_len + (len - 1 - k)];
        }
    }
    return 0;
}

/* Reference pdqImageDomainQualityMetric, float arithmetic and truncation kept as-is. */
static int quality_metric(float s[OUT][OUT]) {
    int gradient_sum = 0;
    for (int i = 0; i < OUT - 1; i++) {
        for (int j = 0; j < OUT; j++) {
            const int d = (int)(((s[i][j] - s[i + 1][j]) * 100.0f) / 255.0f);
            gradient_sum += abs(d);
        }
    }
    for (int i = 0; i < OUT; i++) {
        for (int j = 0; j < OUT - 1; j++) {
            const int d = (int)(((s[i][j] - s[i][j + 1]) * 100.0f) / 255.0f);
            gradient_sum += abs(d);
        }
    }
    const int quality = gradient_sum / 90;
    return quality > 100 ? 100 : quality;
}

/* 16x64 DCT-II basis rows 1..16, built as the reference does (float scale, double cosine). */
static float dct_matrix[DCT][OUT];

static void dct_matrix_init(void) {
    const float scale = (float)sqrt(2.0 / OUT);
    const double pi = 3.14159265358979323846;
    for (int i = 0; i < DCT; i++) {
        for (int j = 0; j < OUT; j++) {
            dct_matrix[i][j] = (float)(scale * cos((pi / 2.0 / OUT) * (i + 1) * (2 * j + 1)));
        }
    }
}

/* B = D . S . D^T with the reference's float accumulation order, so that coefficients close
 * to the median fall on the same side as in the reference. */
static void dct64_to_16(float s[OUT][OUT], float out[DCT][DCT]) {
    float t[DCT][OUT];
    for (int i = 0; i < DCT; i++) {
        for (int j = 0; j < OUT; j++) {
            float sum = 0.0f;
            for (int k = 0; k < OUT; k++) {
                sum += dct_matrix[i][k] * s[k][j];
            }
            t[i][j] = sum;
        }
    }
    for (int i = 0; i < DCT; i++) {
        for (int j = 0; j < DCT; j++) {
            float sum = 0.0f;
            for (int k = 0; k < OUT; k++) {
                sum += t[i][k] * dct_matrix[j][k];
            }
            out[i][j] = sum;
        }
    }
}

static void pdq_init(void) { dct_matrix_init(); }

/* Fills out64[0] with the buffer of the image (nrows x ncols, rows `stride` elements apart)
 * as given and, with `dihedral`, out64[1..3] with those of the image flipped top-bottom,
 * left-right, and both. Returns 0, or -1 when memory runs out. */
static int pdq_downsample(const void *data, int is_u8, pdq_ssize nrows, pdq_ssize ncols,
                          pdq_ssize stride, int dihedral, float out64[4][OUT][OUT]) {
    const size_t strip_bytes = (size_t)OUT * (size_t)ncols * sizeof(float);
    Band rows, cols, rows_rev, cols_rev;
    float *strip = NULL, *strip_rev = NULL;
    int status = -1;
    memset(&rows, 0, sizeof rows);
    memset(&cols, 0, sizeof cols);
    memset(&rows_rev, 0, sizeof rows_rev);
    memset(&cols_rev, 0, sizeof cols_rev);
    strip = malloc(strip_bytes);
    if (strip != NULL && band_build(&rows, nrows) == 0 && band_build(&cols, ncols) == 0) {
        vertical(data, is_u8, ncols, stride, &rows, strip);
        horizontal(strip, ncols, &cols, out64[0]);
        status = 0;
    }
    if (status == 0 && dihedral) {
        status = -1;
        strip_rev = malloc(strip_bytes);
        if (strip_rev != NULL && band_reverse(&rows, nrows, &rows_rev) == 0 &&
            band_reverse(&cols, ncols, &cols_rev) == 0) {
            vertical(data, is_u8, ncols, stride, &rows_rev, strip_rev);
            horizontal(strip_rev, ncols, &cols, out64[1]);
            horizontal(strip, ncols, &cols_rev, out64[2]);
            horizontal(strip_rev, ncols, &cols_rev, out64[3]);
            status = 0;
        }
    }
    free(rows.w);
    free(cols.w);
    free(rows_rev.w);
    free(cols_rev.w);
    free(strip);
    free(strip_rev);
    return status;
}

#endif
