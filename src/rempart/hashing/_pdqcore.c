/*
 * PDQ numeric core: luma array -> 64x64 Jarosz-filtered samples -> 16x16 DCT and quality.
 *
 * Owns only arithmetic on numpy arrays it is handed; must not decode images, threshold
 * hashes or keep state between calls (thresholding and bit order live in pdq.py).
 *
 * The reference (ThreatExchange pdqhashing.cpp) box-filters the whole image four times
 * (rows, columns, rows, columns) and then keeps 64x64 samples. The filter is linear and
 * separable, so each kept sample is a fixed weighted sum: out = A . X . C^T, where row i
 * of A (64 x nrows) is the double box filter seen from sample row i, and likewise for C.
 * We build those banded weights exactly (in double), then apply them only where a sample
 * is taken. Cost is about one multiply-add per input pixel instead of four passes.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define OUT 64  /* side of the decimated buffer */
#define DCT 16  /* side of the kept DCT block */

/* The banded weights of one dimension: for each of the 64 samples, `len[i]` weights that
 * apply to input indices start[i] .. start[i] + len[i] - 1. */
typedef struct {
    Py_ssize_t start[OUT];
    Py_ssize_t len[OUT];
    Py_ssize_t max_len;
    float *w; /* OUT * max_len, row i at w + i * max_len */
} Band;

/* One box-filter output: reference box1DFloat averages in[o - a .. o + b], clipped. */
static void box_span(Py_ssize_t o, Py_ssize_t n, Py_ssize_t a, Py_ssize_t b,
                     Py_ssize_t *lo, Py_ssize_t *hi) {
    *lo = o - a < 0 ? 0 : o - a;
    *hi = o + b > n - 1 ? n - 1 : o + b;
}

/* Fill `band` for a dimension of length n. Returns 0, or -1 when memory runs out. */
static int band_build(Band *band, Py_ssize_t n) {
    /* Reference: window = ceil(n / 128), half = (w + 2) / 2, b = half - 1, a = w - half. */
    const Py_ssize_t win = (n + 2 * OUT - 1) / (2 * OUT);
    const Py_ssize_t half = (win + 2) / 2;
    const Py_ssize_t b = half - 1, a = win - half;
    const Py_ssize_t max_len = 2 * win - 1;
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
        const Py_ssize_t r = (Py_ssize_t)(((i + 0.5) * (double)n) / OUT);
        Py_ssize_t lo_r, hi_r, first, last, lo_k, hi_k;
        box_span(r, n, a, b, &lo_r, &hi_r);
        box_span(lo_r, n, a, b, &first, &lo_k);
        box_span(hi_r, n, a, b, &lo_k, &last);
        memset(acc, 0, (size_t)max_len * sizeof(double));
        /* Second pass sees first-pass outputs k in [lo_r, hi_r], each an average itself. */
        for (Py_ssize_t k = lo_r; k <= hi_r; k++) {
            box_span(k, n, a, b, &lo_k, &hi_k);
            const double wk = 1.0 / (double)((hi_r - lo_r + 1) * (hi_k - lo_k + 1));
            for (Py_ssize_t m = lo_k; m <= hi_k; m++) {
                acc[m - first] += wk;
            }
        }
        band->start[i] = first;
        band->len[i] = last - first + 1;
        for (Py_ssize_t m = 0; m < band->len[i]; m++) {
            band->w[i * max_len + m] = (float)acc[m];
        }
    }
    free(acc);
    return 0;
}

/* acc[c] += w * row[c]: the vertical pass's inner loop, kept trivially vectorizable. */
static void axpy_u8(float *restrict acc, const uint8_t *restrict row, float w, Py_ssize_t n) {
    for (Py_ssize_t c = 0; c < n; c++) {
        acc[c] += w * (float)row[c];
    }
}

static void axpy_f32(float *restrict acc, const float *restrict row, float w, Py_ssize_t n) {
    for (Py_ssize_t c = 0; c < n; c++) {
        acc[c] += w * row[c];
    }
}

/* Vertical pass: strip[i][c] = sum_k rows.w[i][k] * X[rows.start[i] + k][c], over the full
 * width so that the inner loop runs along contiguous memory. `strip` holds OUT * ncols. */
static void vertical(const void *data, int is_u8, Py_ssize_t ncols, const Band *rows,
                     float *strip) {
    for (int i = 0; i < OUT; i++) {
        float *acc = strip + (size_t)i * (size_t)ncols;
        memset(acc, 0, (size_t)ncols * sizeof(float));
        const float *w = rows->w + i * rows->max_len;
        for (Py_ssize_t k = 0; k < rows->len[i]; k++) {
            const size_t offset = (size_t)(rows->start[i] + k) * (size_t)ncols;
            if (is_u8) {
                axpy_u8(acc, (const uint8_t *)data + offset, w[k], ncols);
            } else {
                axpy_f32(acc, (const float *)data + offset, w[k], ncols);
            }
        }
    }
}

/* Horizontal pass on the 64-row strip: out[i][j] = sum_k cols.w[j][k] * strip[i][start + k]. */
static void horizontal(const float *strip, Py_ssize_t ncols, const Band *cols,
                       float out[OUT][OUT]) {
    for (int i = 0; i < OUT; i++) {
        const float *acc = strip + (size_t)i * (size_t)ncols;
        for (int j = 0; j < OUT; j++) {
            const float *w = cols->w + j * cols->max_len;
            const float *x = acc + cols->start[j];
            float sum = 0.0f;
            for (Py_ssize_t k = 0; k < cols->len[j]; k++) {
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
static int band_reverse(const Band *band, Py_ssize_t n, Band *out) {
    out->max_len = band->max_len;
    out->w = malloc((size_t)OUT * (size_t)band->max_len * sizeof(float));
    if (out->w == NULL) {
        return -1;
    }
    for (int i = 0; i < OUT; i++) {
        const Py_ssize_t len = band->len[i];
        out->len[i] = len;
        out->start[i] = n - (band->start[i] + len);
        for (Py_ssize_t k = 0; k < len; k++) {
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

/* Borrowed-reference check of the one accepted input layout; sets a Python error on failure. */
static PyArrayObject *as_luma(PyObject *obj, int *is_u8) {
    if (!PyArray_Check(obj)) {
        PyErr_SetString(PyExc_TypeError, "luma must be a numpy array");
        return NULL;
    }
    PyArrayObject *arr = (PyArrayObject *)obj;
    const int type = PyArray_TYPE(arr);
    if (PyArray_NDIM(arr) != 2) {
        PyErr_SetString(PyExc_ValueError, "luma must be a 2-D array");
        return NULL;
    }
    if (type != NPY_UINT8 && type != NPY_FLOAT32) {
        PyErr_SetString(PyExc_TypeError, "luma must be uint8 or float32");
        return NULL;
    }
    if (!PyArray_IS_C_CONTIGUOUS(arr) || !PyArray_ISALIGNED(arr)) {
        PyErr_SetString(PyExc_ValueError, "luma must be C-contiguous and aligned");
        return NULL;
    }
    if (PyArray_DIM(arr, 0) < 1 || PyArray_DIM(arr, 1) < 1) {
        PyErr_SetString(PyExc_ValueError, "luma must have at least one row and one column");
        return NULL;
    }
    *is_u8 = type == NPY_UINT8;
    return arr;
}

/* Everything one call needs on the heap, so that one cleanup path frees it all. */
typedef struct {
    Band rows, cols, rows_rev, cols_rev;
    float *strip, *strip_rev;
} Work;

static void work_free(Work *work) {
    free(work->rows.w);
    free(work->cols.w);
    free(work->rows_rev.w);
    free(work->cols_rev.w);
    free(work->strip);
    free(work->strip_rev);
}

/* Fills out64[0] with the buffer of the image as given and, with `dihedral`, out64[1..3]
 * with those of the image flipped top-bottom, left-right, and both. Runs without the GIL.
 * Returns 0, or -1 with MemoryError set. */
static int run_downsample(PyArrayObject *arr, int is_u8, int dihedral, float out64[4][OUT][OUT]) {
    const Py_ssize_t nrows = PyArray_DIM(arr, 0), ncols = PyArray_DIM(arr, 1);
    const void *data = PyArray_DATA(arr);
    const size_t strip_bytes = (size_t)OUT * (size_t)ncols * sizeof(float);
    Work work;
    memset(&work, 0, sizeof(work));
    int status = -1;
    Py_BEGIN_ALLOW_THREADS
    work.strip = malloc(strip_bytes);
    if (work.strip != NULL && band_build(&work.rows, nrows) == 0 &&
        band_build(&work.cols, ncols) == 0) {
        vertical(data, is_u8, ncols, &work.rows, work.strip);
        horizontal(work.strip, ncols, &work.cols, out64[0]);
        status = 0;
    }
    if (status == 0 && dihedral) {
        status = -1;
        work.strip_rev = malloc(strip_bytes);
        if (work.strip_rev != NULL && band_reverse(&work.rows, nrows, &work.rows_rev) == 0 &&
            band_reverse(&work.cols, ncols, &work.cols_rev) == 0) {
            vertical(data, is_u8, ncols, &work.rows_rev, work.strip_rev);
            horizontal(work.strip_rev, ncols, &work.cols, out64[1]);
            horizontal(work.strip, ncols, &work.cols_rev, out64[2]);
            horizontal(work.strip_rev, ncols, &work.cols_rev, out64[3]);
            status = 0;
        }
    }
    work_free(&work);
    Py_END_ALLOW_THREADS
    if (status != 0) {
        PyErr_NoMemory();
    }
    return status;
}

static PyObject *new_float_matrix(int n, const float *values) {
    npy_intp dims[2] = {n, n};
    PyObject *out = PyArray_SimpleNew(2, dims, NPY_FLOAT32);
    if (out != NULL) {
        memcpy(PyArray_DATA((PyArrayObject *)out), values, (size_t)n * (size_t)n * sizeof(float));
    }
    return out;
}

PyDoc_STRVAR(downsample64_doc,
             "downsample64(luma, /)\n--\n\n"
             "The reference's 64x64 Jarosz-filtered, decimated buffer of a 2-D uint8 or\n"
             "float32 C-contiguous luma array, as a new float32 (64, 64) array.");

static PyObject *py_downsample64(PyObject *self, PyObject *obj) {
    (void)self;
    int is_u8 = 0;
    float out64[4][OUT][OUT];
    PyArrayObject *arr = as_luma(obj, &is_u8);
    if (arr == NULL || run_downsample(arr, is_u8, 0, out64) != 0) {
        return NULL;
    }
    return new_float_matrix(OUT, &out64[0][0][0]);
}

PyDoc_STRVAR(dct16_doc,
             "dct16(luma, /)\n--\n\n"
             "PDQ's 16x16 DCT coefficients (float32 (16, 16), row i = vertical frequency i+1)\n"
             "and the reference quality metric (0-100) of a 2-D uint8 or float32 luma array.");

static PyObject *py_dct16(PyObject *self, PyObject *obj) {
    (void)self;
    int is_u8 = 0;
    float out64[4][OUT][OUT];
    float coeffs[DCT][DCT];
    PyArrayObject *arr = as_luma(obj, &is_u8);
    if (arr == NULL || run_downsample(arr, is_u8, 0, out64) != 0) {
        return NULL;
    }
    const int quality = quality_metric(out64[0]);
    dct64_to_16(out64[0], coeffs);
    PyObject *matrix = new_float_matrix(DCT, &coeffs[0][0]);
    if (matrix == NULL) {
        return NULL;
    }
    return Py_BuildValue("(Ni)", matrix, quality);
}

static void transpose64(float in[OUT][OUT], float out[OUT][OUT]) {
    for (int i = 0; i < OUT; i++) {
        for (int j = 0; j < OUT; j++) {
            out[j][i] = in[i][j];
        }
    }
}

PyDoc_STRVAR(dct16_dihedral_doc,
             "dct16_dihedral(luma, /)\n--\n\n"
             "dct16 of the image and of its 7 rotations and flips, in the reference's order\n"
             "(original, rot90, rot180, rot270, flipx, flipy, flip+1, flip-1; rotations\n"
             "counter-clockwise as np.rot90): a float32 (8, 16, 16) array and 8 qualities.\n"
             "Each equals dct16 of the transformed array, without transforming it.");

static PyObject *py_dct16_dihedral(PyObject *self, PyObject *obj) {
    (void)self;
    int is_u8 = 0;
    float flips[4][OUT][OUT]; /* as given, rows reversed, columns reversed, both */
    float buffer[OUT][OUT];
    int qualities[8];
    PyArrayObject *arr = as_luma(obj, &is_u8);
    if (arr == NULL || run_downsample(arr, is_u8, 1, flips) != 0) {
        return NULL;
    }
    npy_intp dims[3] = {8, DCT, DCT};
    PyObject *out = PyArray_SimpleNew(3, dims, NPY_FLOAT32);
    if (out == NULL) {
        return NULL;
    }
    float(*coeffs)[DCT][DCT] = PyArray_DATA((PyArrayObject *)out);
    /* Transposing the image transposes its 64x64 buffer exactly (both dimensions use the
     * same rule), so the other four variants are transposes of the four flips:
     * rot90 = transpose of columns-reversed, rot270 = of rows-reversed, flip+1 = of the
     * original, flip-1 = of both-reversed. */
    static const int source[8] = {0, 2, 3, 1, 1, 2, 0, 3};
    static const int transposed[8] = {0, 1, 0, 1, 0, 0, 1, 1};
    for (int v = 0; v < 8; v++) {
        float(*s)[OUT] = flips[source[v]];
        if (transposed[v]) {
            transpose64(flips[source[v]], buffer);
            s = buffer;
        }
        qualities[v] = quality_metric(s);
        dct64_to_16(s, coeffs[v]);
    }
    return Py_BuildValue("(N(iiiiiiii))", out, qualities[0], qualities[1], qualities[2],
                         qualities[3], qualities[4], qualities[5], qualities[6], qualities[7]);
}

static PyMethodDef methods[] = {
    {"downsample64", py_downsample64, METH_O, downsample64_doc},
    {"dct16", py_dct16, METH_O, dct16_doc},
    {"dct16_dihedral", py_dct16_dihedral, METH_O, dct16_dihedral_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "rempart.hashing._pdqcore",
    .m_doc = "PDQ numeric core: 64x64 Jarosz downsample, 16x16 DCT and quality.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__pdqcore(void) {
    import_array();
    dct_matrix_init();
    return PyModule_Create(&module);
}
