/*
 * PDQ numeric core for Python: the arithmetic lives in _pdqkernel.h (shared with the
 * victim's offline page, built to WebAssembly); this file checks numpy arrays and wraps it.
 *
 * Owns only arithmetic on numpy arrays it is handed; must not decode images, threshold
 * hashes or keep state between calls (thresholding and bit order live in pdq.py).
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include "_pdqkernel.h"

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

/* pdq_downsample on a checked array, without the GIL. Returns 0, or -1 with MemoryError set. */
static int run_downsample(PyArrayObject *arr, int is_u8, int dihedral, float out64[4][OUT][OUT]) {
    const Py_ssize_t nrows = PyArray_DIM(arr, 0), ncols = PyArray_DIM(arr, 1);
    const void *data = PyArray_DATA(arr);
    int status = -1;
    Py_BEGIN_ALLOW_THREADS
    status = pdq_downsample(data, is_u8, nrows, ncols, ncols, dihedral, out64);
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
    pdq_init();
    return PyModule_Create(&module);
}
