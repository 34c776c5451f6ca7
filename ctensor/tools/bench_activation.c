/*
 * Times ct_activation_{forward,backward}_{f32,f64} on one thread: best of 200 runs over
 * 131072 elements spread over [-8, 8], each kind against the same input.
 *
 *   gcc -O3 -std=c11 -fopenmp -fno-math-errno -fno-trapping-math -Ictensor/include \
 *       ctensor/src/[a-z]*.c ctensor/tools/bench_activation.c -o /tmp/bench_activation -lm
 *   /tmp/bench_activation
 */
#include "bench_timing.h"

#include <stdio.h>

#include "ctensor.h"

enum { N = 131072, RUNS = 200 };

int main(void)
{
    static const char *names[] = {"sigmoid", "tanh", "swish", "elu", "gelu", "gelu_tanh"};
    static float x32[N], dy32[N], out32[N];
    static double x64[N], dy64[N], out64[N];
    for (int i = 0; i < N; i++) {
        x64[i] = 16.0 * rand() / RAND_MAX - 8.0, dy64[i] = 1;
        x32[i] = (float)x64[i], dy32[i] = 1;
    }
    ct_set_num_threads(1);
    printf("%s, %d elements, 1 thread, best of %d (ms)\n", ct_simd_name(), N, RUNS);
    printf("%-10s %9s %9s %9s %9s\n", "kind", "f32 fwd", "f32 bwd", "f64 fwd", "f64 bwd");
    for (int kind = CT_ACTIVATION_SIGMOID; kind <= CT_ACTIVATION_GELU_TANH; kind++) {
        double best[4] = {1e9, 1e9, 1e9, 1e9};
        for (int run = 0; run < RUNS; run++) {
            double t[5];
            t[0] = now();
            ct_activation_forward_f32(kind, N, x32, out32, 1, 1, 1);
            t[1] = now();
            ct_activation_backward_f32(kind, N, x32, dy32, out32, 1, 1, 1);
            t[2] = now();
            ct_activation_forward_f64(kind, N, x64, out64, 1, 1, 1);
            t[3] = now();
            ct_activation_backward_f64(kind, N, x64, dy64, out64, 1, 1, 1);
            t[4] = now();
            for (int k = 0; k < 4; k++)
                if (t[k + 1] - t[k] < best[k]) best[k] = t[k + 1] - t[k];
        }
        printf("%-10s %9.3f %9.3f %9.3f %9.3f\n", names[kind], 1e3 * best[0], 1e3 * best[1], 1e3 * best[2],
               1e3 * best[3]);
    }
    return 0;
}
