/* Times the exported C step (bench/c_step.sh): STEPS steps of the model with prefix `m`
 * on seeded pseudo-random input codes, best of REPEATS runs, microseconds per step. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <time.h>
#include "m.h"

#define STEPS 20000
#define REPEATS 7

int main(void)
{
    static int8_t x[64][M_INPUT_SIZE];
    uint32_t s = 12345u;
    size_t t, k;
    int r;
    double best = 1e30;
    int32_t logits[M_CLASSES];
    m_state_t st;
    for (t = 0; t < 64; ++t) {
        for (k = 0; k < M_INPUT_SIZE; ++k) {
            s = s * 1103515245u + 12345u;
            x[t][k] = (int8_t)((int)(s >> 16) % 256 - 128);
        }
    }
    for (r = 0; r < REPEATS; ++r) {
        struct timespec a, b;
        double us;
        m_reset(&st);
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (t = 0; t < STEPS; ++t) {
            m_step(&st, x[t % 64]);
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        us = ((double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3) / STEPS;
        if (us < best) {
            best = us;
        }
    }
    m_logits(&st, logits);
    printf("%s %s %.3f us/step (checksum %ld)\n", M_GENOME, M_PACKED ? "packed" : "unpacked", best,
           (long)logits[0]);
    return 0;
}
