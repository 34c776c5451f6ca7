/* Index spaces: validating, simplifying and walking shapes with per-operand strides. */
#include <string.h>

#include "ctensor_internal.h"

int ct_index_space_init(ct_index_space *space, int ndim, const int64_t *shape, int noperands,
                        const int64_t *const *strides, int64_t *count)
{
    if (ndim < 0 || ndim > CT_MAX_DIMS || noperands < 1 || noperands > CT_MAX_OPERANDS)
        return CT_ERR_INVALID_ARGUMENT;
    if (ndim > 0) {
        if (shape == NULL) return CT_ERR_INVALID_ARGUMENT;
        for (int q = 0; q < noperands; q++)
            if (strides[q] == NULL) return CT_ERR_INVALID_ARGUMENT;
    }
    int64_t total = 1;
    for (int d = 0; d < ndim; d++)
        if (shape[d] < 0) return CT_ERR_INVALID_ARGUMENT;
    for (int d = 0; d < ndim; d++)
        if (__builtin_mul_overflow(total, shape[d], &total)) return CT_ERR_INVALID_ARGUMENT;

    space->ndim = ndim;
    space->noperands = noperands;
    for (int d = 0; d < ndim; d++) {
        space->shape[d] = shape[d];
        for (int q = 0; q < noperands; q++) space->strides[q][d] = strides[q][d];
    }
    *count = total;
    return CT_OK;
}

/* Dims d and d + 1 walk as one when every operand steps over dim d + 1 exactly once per step of d. */
static int dims_mergeable(const ct_index_space *space, int d)
{
    for (int q = 0; q < space->noperands; q++)
        if (space->strides[q][d] != space->strides[q][d + 1] * space->shape[d + 1]) return 0;
    return 1;
}

static void copy_dim(ct_index_space *space, int to, int from)
{
    space->shape[to] = space->shape[from];
    for (int q = 0; q < space->noperands; q++) space->strides[q][to] = space->strides[q][from];
}

void ct_index_space_simplify(ct_index_space *space)
{
    /* An empty space stays as it is: its count (0) is what matters. */
    for (int d = 0; d < space->ndim; d++)
        if (space->shape[d] == 0) return;

    int kept = 0;
    for (int d = 0; d < space->ndim; d++)
        if (space->shape[d] != 1) copy_dim(space, kept++, d);
    space->ndim = kept;

    int merged = 0;
    for (int d = 1; d < space->ndim; d++) {
        /* dims_mergeable compares dims `merged` and `merged + 1`, so stage d there first. */
        copy_dim(space, merged + 1, d);
        if (dims_mergeable(space, merged)) {
            space->shape[merged] *= space->shape[merged + 1];
            for (int q = 0; q < space->noperands; q++) space->strides[q][merged] = space->strides[q][merged + 1];
        } else {
            merged++;
        }
    }
    if (space->ndim > 0) space->ndim = merged + 1;
}

/* Sort key: walk larger strides outside; stride 0 (broadcast) outermost of all. */
static int walks_outside(int64_t stride_a, int64_t stride_b)
{
    if (stride_a == 0) return stride_b != 0;
    if (stride_b == 0) return 0;
    return stride_a > stride_b;
}

void ct_index_space_canonicalize(ct_index_space *space, int64_t *base_offset)
{
    for (int d = 0; d < space->ndim; d++) {
        if (space->strides[0][d] < 0 && space->shape[d] > 0) {
            *base_offset += (space->shape[d] - 1) * space->strides[0][d];
            space->strides[0][d] = -space->strides[0][d];
        }
    }
    /* Insertion sort (at most CT_MAX_DIMS dims); stable, so equal strides keep their order. */
    for (int d = 1; d < space->ndim; d++) {
        int64_t shape = space->shape[d], stride = space->strides[0][d];
        int e = d;
        for (; e > 0 && walks_outside(stride, space->strides[0][e - 1]); e--) {
            space->shape[e] = space->shape[e - 1];
            space->strides[0][e] = space->strides[0][e - 1];
        }
        space->shape[e] = shape;
        space->strides[0][e] = stride;
    }
    ct_index_space_simplify(space);
}

void ct_index_space_drop_last(const ct_index_space *space, ct_index_space *prefix)
{
    *prefix = *space;
    if (prefix->ndim > 0) prefix->ndim--;
}

void ct_index_space_offsets(const ct_index_space *space, int64_t flat, int64_t *offsets)
{
    for (int q = 0; q < space->noperands; q++) offsets[q] = 0;
    for (int d = space->ndim - 1; d >= 0; d--) {
        int64_t i = flat % space->shape[d];
        flat /= space->shape[d];
        for (int q = 0; q < space->noperands; q++) offsets[q] += i * space->strides[q][d];
    }
}

void ct_cursor_seek(ct_cursor *cursor, const ct_index_space *space, int64_t flat)
{
    for (int q = 0; q < CT_MAX_OPERANDS; q++) cursor->offset[q] = 0;
    for (int d = space->ndim - 1; d >= 0; d--) {
        cursor->index[d] = flat % space->shape[d];
        flat /= space->shape[d];
        for (int q = 0; q < space->noperands; q++) cursor->offset[q] += cursor->index[d] * space->strides[q][d];
    }
}
