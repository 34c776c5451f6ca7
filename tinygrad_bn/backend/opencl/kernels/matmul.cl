/*
 * Batched matmul out = a @ b for a floating T: a (m, k) and b (k, n) read through their own row and
 * column strides (a transposed or sliced operand needs no copy), batch dims broadcast by stride 0;
 * out dense (batch, m, n).
 *
 * Tiling: a work-group of 8 x 8 work-items computes a TILE x TILE block of out, each work-item a
 * WORK x WORK register block (rows ty + 8i, columns tx + 8j: neighbouring work-items read
 * neighbouring local memory). Per step of TILE_K along k, the group stages an a tile (TILE x TILE_K)
 * and a b tile (TILE_K x TILE) in local memory, zero-padded at the edges.
 */
#define GROUP 8
#define WORK 4
#define TILE (GROUP * WORK)
#define TILE_K 16

__kernel __attribute__((reqd_work_group_size(GROUP, GROUP, 1))) void
matmul(__global T *out, __global const T *a, long a_offset, long a_row, long a_col, __global const T *b,
       long b_offset, long b_row, long b_col, long m, long n, long k, int batch_ndim, long8 batch_shape,
       long8 a_batch_strides, long8 b_batch_strides)
{
    __local T a_tile[TILE][TILE_K];
    __local T b_tile[TILE_K][TILE + 1]; /* + 1: column reads by row do not all hit one bank */
    const int tx = get_local_id(0), ty = get_local_id(1), lid = ty * GROUP + tx;
    const long col0 = get_group_id(0) * TILE, row0 = get_group_id(1) * TILE, batch = get_global_id(2);
    long unused = 0;
    strided_offsets(batch, batch_ndim, batch_shape, a_batch_strides, b_batch_strides, (long8)(0), &a_offset,
                    &b_offset, &unused);
    T acc[WORK][WORK];
    for (int i = 0; i < WORK; i++)
        for (int j = 0; j < WORK; j++) acc[i][j] = 0;

    for (long k0 = 0; k0 < k; k0 += TILE_K) {
        for (int e = lid; e < TILE * TILE_K; e += GROUP * GROUP) {
            int r = e / TILE_K, c = e % TILE_K;
            long row = row0 + r, depth = k0 + c;
            a_tile[r][c] = row < m && depth < k ? a[a_offset + row * a_row + depth * a_col] : (T)0;
        }
        for (int e = lid; e < TILE_K * TILE; e += GROUP * GROUP) {
            int r = e / TILE, c = e % TILE;
            long depth = k0 + r, col = col0 + c;
            b_tile[r][c] = depth < k && col < n ? b[b_offset + depth * b_row + col * b_col] : (T)0;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < TILE_K; kk++) {
            T a_values[WORK], b_values[WORK];
            for (int i = 0; i < WORK; i++) a_values[i] = a_tile[ty + GROUP * i][kk];
            for (int j = 0; j < WORK; j++) b_values[j] = b_tile[kk][tx + GROUP * j];
            for (int i = 0; i < WORK; i++)
                for (int j = 0; j < WORK; j++) acc[i][j] += a_values[i] * b_values[j];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    __global T *block = out + batch * m * n;
    for (int i = 0; i < WORK; i++) {
        long row = row0 + ty + GROUP * i;
        for (int j = 0; j < WORK; j++) {
            long col = col0 + tx + GROUP * j;
            if (row < m && col < n) block[row * n + col] = acc[i][j];
        }
    }
}
