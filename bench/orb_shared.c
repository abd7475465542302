/*
 * Probe for bench/orb_shared.py (not part of Rempart): a page picture's two ORB sets, the
 * whole picture's and the masked one's, from one pyramid, one FAST pass and one blur, with
 * the arithmetic of src/rempart/intake/page/orb.h (bit-exact with OpenCV's ORB). Each set is
 * chosen as ORB chooses it (per level: FAST corners, off the page for the masked set, the
 * best 2 x quota by FAST score, then the best quota by Harris response), then described.
 * `simd`: FAST's first test 16 pixels at a time (SSE2) and the 7 x 7 blur with AVX2 fused
 * multiply-adds (run only on processors with AVX2 and FMA; the results are the same). Builds
 * on x86-64 only (gcc or clang).
 */
#define _POSIX_C_SOURCE 199309L
#include <stddef.h>
#include <time.h>

#include "../src/rempart/intake/page/orb.h"

#include <immintrin.h>

/* CPU seconds in each stage: pyramid, FAST, selection (Harris, angles), blur, descriptors */
double STAGES[5];
double *stages(void) { return STAGES; }

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* orb.h's fast_level, with pixels rejected 16 at a time (SSE2) by fast_score's first test. */
static int fast_level_simd(const Level *l, Keypoint **out, int *count) {
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
        int x = F_EDGE - 1;
        const __m128i t = _mm_set1_epi8(F_FAST);
        for (; x + 16 <= w - F_EDGE + 1; x += 16) {
            const uint8_t *p = l->px + (ptrdiff_t)y * l->stride + x;
            const __m128i v = _mm_loadu_si128((const __m128i *)p), zero = _mm_setzero_si128();
            const __m128i hi = _mm_adds_epu8(v, t), lo = _mm_subs_epu8(v, t);
            const __m128i ones = _mm_set1_epi8(-1);
            __m128i bright = zero, dark = zero;
            for (int k = 0; k < 16; k += 4) {
                const __m128i q = _mm_loadu_si128((const __m128i *)(p + ofs[k]));
                /* -1 in a lane where q > v + t (brighter), or q < v - t (darker) */
                const __m128i up = _mm_cmpeq_epi8(_mm_subs_epu8(q, hi), zero);
                const __m128i down = _mm_cmpeq_epi8(_mm_subs_epu8(lo, q), zero);
                bright = _mm_add_epi8(bright, _mm_xor_si128(up, ones));
                dark = _mm_add_epi8(dark, _mm_xor_si128(down, ones));
            }
            /* at least two of the four brighter (a count of -2 or less), or two darker */
            const __m128i pass =
                _mm_or_si128(_mm_cmpgt_epi8(ones, bright), _mm_cmpgt_epi8(ones, dark));
            unsigned bits = (unsigned)_mm_movemask_epi8(pass);
            while (bits) {
                const int i = __builtin_ctz(bits);
                bits &= bits - 1;
                score[(size_t)y * w + x + i] = (uint8_t)fast_score(p + i, ofs, F_FAST);
            }
        }
        for (; x <= w - F_EDGE; x++) {
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


__attribute__((target("avx2,fma"))) static int blur_level_fma(Level *l) {
    float k[7];
    gauss_weights(k);
    const int w = l->w;
    float *tmp = malloc((size_t)(l->h + 6) * (size_t)w * sizeof(float) + 64);
    if (tmp == NULL) {
        return -1;
    }
    for (int y = -3; y < l->h + 3; y++) {
        const uint8_t *row = l->px + (ptrdiff_t)y * l->stride;
        float *t = tmp + (size_t)(y + 3) * w;
        int x = 0;
        for (; x + 8 <= w; x += 8) {
            __m256 s = _mm256_setzero_ps();
            for (int j = 0; j < 7; j++) {
                const __m128i b = _mm_loadl_epi64((const __m128i *)(row + x + j - 3));
                const __m256 v = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b));
                s = _mm256_fmadd_ps(_mm256_set1_ps(k[j]), v, s);
            }
            _mm256_storeu_ps(t + x, s);
        }
        for (; x < w; x++) {
            float s = 0.f;
            for (int j = 0; j < 7; j++) {
                s = fmaf(k[j], (float)row[x + j - 3], s);
            }
            t[x] = s;
        }
    }
    for (int y = 0; y < l->h; y++) {
        uint8_t *out = l->px + (ptrdiff_t)y * l->stride;
        const float *mid = tmp + (size_t)(y + 3) * w;
        int x = 0;
        for (; x + 8 <= w; x += 8) {
            __m256 s = _mm256_mul_ps(_mm256_set1_ps(k[3]), _mm256_loadu_ps(mid + x));
            for (int j = 1; j <= 3; j++) {
                const __m256 pair = _mm256_add_ps(_mm256_loadu_ps(mid + x + (ptrdiff_t)j * w),
                                                  _mm256_loadu_ps(mid + x - (ptrdiff_t)j * w));
                s = _mm256_fmadd_ps(_mm256_set1_ps(k[3 + j]), pair, s);
            }
            __m256i r = _mm256_cvtps_epi32(s); /* round to nearest even */
            const __m128i low = _mm256_castsi256_si128(r), high = _mm256_extracti128_si256(r, 1);
            __m128i r16 = _mm_packs_epi32(low, high);
            __m128i r8 = _mm_packus_epi16(r16, r16);
            _mm_storel_epi64((__m128i *)(out + x), r8);
        }
        for (; x < w; x++) {
            float s = k[3] * mid[x];
            for (int j = 1; j <= 3; j++) {
                const float pair = mid[x + (ptrdiff_t)j * w] + mid[x - (ptrdiff_t)j * w];
                s = fmaf(k[3 + j], pair, s);
            }
            const int v = f_roundf(s);
            out[x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
    free(tmp);
    return 0;
}

/* One set's output. */
typedef struct {
    float *xy, *angle, *response;
    uint8_t *octave, *desc;
} Out;

static int select_set(Level *levels, int nlevels, Keypoint **corners, int *ncorners,
                      int use_mask, const int *per_level, const int *umax, Keypoint **all_out) {
    Keypoint *all = NULL;
    int total = 0;
    for (int i = 0; i < nlevels; i++) {
        int n = 0;
        Keypoint *kp = malloc(((size_t)ncorners[i] + 1) * sizeof(Keypoint));
        if (kp == NULL) {
            free(all);
            return -1;
        }
        for (int k = 0; k < ncorners[i]; k++) {
            const Keypoint *c = &corners[i][k];
            if (!use_mask || levels[i].mask[(size_t)c->ly * levels[i].w + c->lx] != 0) {
                kp[n++] = *c;
            }
        }
        n = retain_best(kp, n, 2 * per_level[i]);
        for (int k = 0; k < n; k++) {
            kp[k].level = i;
            kp[k].response = harris(&levels[i], kp[k].lx, kp[k].ly);
        }
        n = n < 0 ? n : retain_best(kp, n, per_level[i]);
        Keypoint *grown = n < 0 ? NULL : realloc(all, (size_t)(total + n + 1) * sizeof(Keypoint));
        if (grown == NULL) {
            free(kp);
            free(all);
            return -1;
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
    *all_out = all;
    return total;
}

/* The whole picture's set in outs[0] (counts[0] keypoints, strongest first), the masked
 * one's in outs[1] when `mask` is not NULL. Returns 0, or -1 out of memory. */
int orb_sets(const uint8_t *grey, int w, int h, const uint8_t *mask, int simd, Out *outs,
             int *counts) {
    Level levels[F_LEVELS];
    int nlevels = F_LEVELS, status = -1;
    Keypoint *corners[F_LEVELS] = {0};
    int ncorners[F_LEVELS] = {0};
    Keypoint *sets[2] = {0};
    counts[0] = counts[1] = 0;
    if (w <= 2 * F_EDGE || h <= 2 * F_EDGE) {
        return 0;
    }
    double t0 = now();
    if (build_pyramid(grey, mask, w, h, nlevels, levels) != 0) {
        free_levels(levels, nlevels);
        return -1;
    }
    STAGES[0] += now() - t0;
    t0 = now();
    int per_level[F_LEVELS], sum = 0;
    const float factor = (float)(1.0 / F_SCALE_FACTOR);
    float desired = F_MAX * (1 - factor) / (1 - (float)pow((double)factor, F_LEVELS));
    for (int i = 0; i < F_LEVELS - 1; i++) { /* as features_blob shares them */
        per_level[i] = f_roundf(desired);
        sum += per_level[i];
        desired *= factor;
    }
    per_level[F_LEVELS - 1] = F_MAX - sum > 0 ? F_MAX - sum : 0;
    int umax[F_HALF + 2];
    patch_rows(umax);
    for (int i = 0; i < nlevels; i++) {
        uint8_t *m = levels[i].mask;
        levels[i].mask = NULL;
        int r = simd ? fast_level_simd(&levels[i], &corners[i], &ncorners[i])
                     : fast_level(&levels[i], &corners[i], &ncorners[i]);
        levels[i].mask = m;
        if (r != 0) {
            goto done;
        }
    }
    STAGES[1] += now() - t0;
    t0 = now();
    for (int s = 0; s < (mask ? 2 : 1); s++) {
        int t = select_set(levels, nlevels, corners, ncorners, s, per_level, umax, &sets[s]);
        if (t < 0) {
            goto done;
        }
        qsort(sets[s], (size_t)t, sizeof(Keypoint), by_response);
        counts[s] = t < F_MAX ? t : F_MAX;
    }
    STAGES[2] += now() - t0;
    t0 = now();
    for (int i = 0; i < nlevels; i++) {
        if ((simd ? blur_level_fma(&levels[i]) : blur_level(&levels[i])) != 0) {
            goto done;
        }
    }
    STAGES[3] += now() - t0;
    t0 = now();
    for (int s = 0; s < (mask ? 2 : 1); s++) {
        for (int i = 0; i < counts[s]; i++) {
            const Keypoint *p = &sets[s][i];
            const Level *l = &levels[p->level];
            const float inv = 1.f / l->scale;
            outs[s].xy[2 * i] = p->x;
            outs[s].xy[2 * i + 1] = p->y;
            outs[s].angle[i] = p->angle;
            outs[s].response[i] = p->response;
            outs[s].octave[i] = (uint8_t)p->level;
            describe(l, f_roundf(p->x * inv), f_roundf(p->y * inv), p->angle,
                     outs[s].desc + F_DESC * i);
        }
    }
    STAGES[4] += now() - t0;
    status = 0;
done:
    for (int i = 0; i < F_LEVELS; i++) {
        free(corners[i]);
    }
    free(sets[0]);
    free(sets[1]);
    free_levels(levels, nlevels);
    return status;
}

