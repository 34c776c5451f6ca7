/*
 * Batched matmul out = a @ b for a floating T: a (m, k) and b (k, n) read through their own row and
 * column strides (a transposed or sliced operand needs no copy), batch dims broadcast by stride 0
 * (batch index: get_global_id(2)); out dense (batch, m, n).
 *
 * Work-groups of GROUP x GROUP work-items; each work-item accumulates a ROWS x 8 register block of
 * out (ROWS rows, one T8 vector of 8 neighbouring columns). Two ways to feed it:
 * - matmul_tiled (devices with dedicated __local memory: GPUs): per step of TILE_K along k, the group
 *   stages an a tile (TILE_M x TILE_K) and a b tile (TILE_K x TILE_N) in local memory, zero-padded at
 *   the edges, and every work-item reads its operands from there.
 * - matmul_direct (CPU drivers, where __local is ordinary cached memory and each barrier splits the
 *   work-group into loops): the same register blocks read straight from global memory, which the
 *   caches tile; 2-4x faster than matmul_tiled on PoCL.
 */
#define CAT(a, b) a##b
#define VECTOR(t, n) CAT(t, n)
#define T8 VECTOR(T, 8)
#define GROUP 8
#define ROWS 4
#define TILE_M (GROUP * ROWS)
#define TILE_N (GROUP * 8)
#define TILE_K 16

/* The block's rows of out, or its tail columns, written from the accumulators (edges cut off). */
inline void store_block(__global T *out, long m, long n, long row0, long col0, T8 *acc)
{
    for (int i = 0; i < ROWS && row0 + i < m; i++) {
        __global T *row = out + (row0 + i) * n;
        if (col0 + 8 <= n) {
            vstore8(acc[i], 0, row + col0);
        } else {
            T values[8];
            vstore8(acc[i], 0, values);
            for (int j = 0; j < 8 && col0 + j < n; j++) row[col0 + j] = values[j];
        }
    }
}

__kernel __attribute__((reqd_work_group_size(GROUP, GROUP, 1))) void
matmul_tiled(__global T *out, __global const T *a, long a_offset, long a_row, long a_col, __global const T *b,
             long b_offset, long b_row, long b_col, long m, long n, long k, int batch_ndim, long8 batch_shape,
             long8 a_batch_strides, long8 b_batch_strides)
{
    __local T a_tile[TILE_K][TILE_M]; /* transposed: a work-item's ROWS values along m are neighbours */
    __local T b_tile[TILE_K][TILE_N];
    const int tx = get_local_id(0), ty = get_local_id(1), lid = ty * GROUP + tx;
    const long col0 = get_group_id(0) * TILE_N, row0 = get_group_id(1) * TILE_M, batch = get_global_id(2);
    long unused = 0;
    strided_offsets(batch, batch_ndim, batch_shape, a_batch_strides, b_batch_strides, (long8)(0), &a_offset,
                    &b_offset, &unused);
    T8 acc[ROWS];
    for (int i = 0; i < ROWS; i++) acc[i] = 0;
    for (long k0 = 0; k0 < k; k0 += TILE_K) {
        for (int e = lid; e < TILE_M * TILE_K; e += GROUP * GROUP) {
            int r = e / TILE_K, c = e % TILE_K;
            long row = row0 + r, depth = k0 + c;
            a_tile[c][r] = row < m && depth < k ? a[a_offset + row * a_row + depth * a_col] : (T)0;
        }
        for (int e = lid; e < TILE_K * TILE_N; e += GROUP * GROUP) {
            int r = e / TILE_N, c = e % TILE_N;
            long depth = k0 + r, col = col0 + c;
            b_tile[r][c] = depth < k && col < n ? b[b_offset + depth * b_row + col * b_col] : (T)0;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < TILE_K; kk++) {
            T8 b_values = vload8(tx, b_tile[kk]);
            for (int i = 0; i < ROWS; i++) acc[i] += a_tile[kk][ty * ROWS + i] * b_values;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    store_block(out + batch * m * n, m, n, row0 + ty * ROWS, col0 + tx * 8, acc);
}

__kernel __attribute__((reqd_work_group_size(GROUP, GROUP, 1))) void
matmul_direct(__global T *out, __global const T *a, long a_offset, long a_row, long a_col, __global const T *b,
              long b_offset, long b_row, long b_col, long m, long n, long k, int batch_ndim, long8 batch_shape,
              long8 a_batch_strides, long8 b_batch_strides)
{
    const long col0 = get_global_id(0) * 8, row0 = get_global_id(1) * ROWS, batch = get_global_id(2);
    if (col0 >= n || row0 >= m) return;
    long unused = 0;
    strided_offsets(batch, batch_ndim, batch_shape, a_batch_strides, b_batch_strides, (long8)(0), &a_offset,
                    &b_offset, &unused);
    T8 acc[ROWS];
    long rows[ROWS]; /* where each row of a starts (rows past m repeat the last: read, never stored) */
    for (int i = 0; i < ROWS; i++) {
        acc[i] = 0;
        rows[i] = a_offset + min(row0 + i, m - 1) * a_row;
    }
    const int whole = b_col == 1 && col0 + 8 <= n; /* the 8 columns are one vector in memory */
    for (long d = 0; d < k; d++) {
        __global const T *b_row_d = b + b_offset + d * b_row;
        T8 b_values;
        if (whole) {
            b_values = vload8(0, b_row_d + col0);
        } else {
            T gathered[8];
            for (int j = 0; j < 8; j++) gathered[j] = b_row_d[min(col0 + j, n - 1) * b_col];
            b_values = vload8(0, gathered);
        }
        for (int i = 0; i < ROWS; i++) acc[i] += a[rows[i] + d * a_col] * b_values;
    }
    store_block(out + batch * m * n, m, n, row0, col0, acc);
}
