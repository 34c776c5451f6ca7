/*
 * OpenCL device work over the runtime that opencl_runtime.c loaded: a context
 * and an in-order queue per device, buffers, programs built from source,
 * kernels and their launches. Thin wrappers: each returns a ct status code
 * and, on failure, leaves the reason (with the OpenCL error code) in
 * ct_cl_last_error(). Nothing here aborts; a NULL handle is refused.
 */
#include <stdio.h>
#include <string.h>

#include "ctensor_internal.h"
#include "opencl_internal.h"

typedef intptr_t cl_context_properties;

/* The entry points used here, looked up once (on the first queue). */
static struct {
    int loaded;
    cl_context (*create_context)(const cl_context_properties *, cl_uint, const cl_device_id *, void *, void *,
                                 cl_int *);
    cl_int (*release_context)(cl_context);
    cl_command_queue (*create_queue)(cl_context, cl_device_id, cl_bitfield, cl_int *);
    cl_int (*release_queue)(cl_command_queue);
    cl_int (*get_device_info)(cl_device_id, cl_uint, size_t, void *, size_t *);
    cl_mem (*create_buffer)(cl_context, cl_bitfield, size_t, void *, cl_int *);
    cl_int (*release_buffer)(cl_mem);
    cl_int (*get_buffer_info)(cl_mem, cl_uint, size_t, void *, size_t *);
    cl_int (*write_buffer)(cl_command_queue, cl_mem, cl_uint, size_t, size_t, const void *, cl_uint, const cl_event *,
                           cl_event *);
    cl_int (*read_buffer)(cl_command_queue, cl_mem, cl_uint, size_t, size_t, void *, cl_uint, const cl_event *,
                          cl_event *);
    cl_int (*copy_buffer)(cl_command_queue, cl_mem, cl_mem, size_t, size_t, size_t, cl_uint, const cl_event *,
                          cl_event *);
    cl_int (*fill_buffer)(cl_command_queue, cl_mem, const void *, size_t, size_t, size_t, cl_uint, const cl_event *,
                          cl_event *);
    cl_program (*create_program)(cl_context, cl_uint, const char **, const size_t *, cl_int *);
    cl_int (*build_program)(cl_program, cl_uint, const cl_device_id *, const char *, void *, void *);
    cl_int (*get_build_info)(cl_program, cl_device_id, cl_uint, size_t, void *, size_t *);
    cl_int (*release_program)(cl_program);
    cl_kernel (*create_kernel)(cl_program, const char *, cl_int *);
    cl_int (*release_kernel)(cl_kernel);
    cl_int (*set_kernel_arg)(cl_kernel, cl_uint, size_t, const void *);
    cl_int (*enqueue_kernel)(cl_command_queue, cl_kernel, cl_uint, const size_t *, const size_t *, const size_t *,
                             cl_uint, const cl_event *, cl_event *);
    cl_int (*finish)(cl_command_queue);
} api;

struct ct_cl_queue {
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    int64_t max_work_group_size;
};

static _Thread_local char last_error[512];

const char *ct_cl_last_error(void) { return last_error; }

/* Records why `what` failed; the status follows the OpenCL code: out of memory (-4, -5, -6, and -61,
 * a buffer past the device's largest allocation), or unavailable. */
static int cl_failure(const char *what, cl_int code)
{
    snprintf(last_error, sizeof last_error, "%s failed with OpenCL error %d%s", what, (int)code,
             code == CL_INVALID_BUFFER_SIZE ? " (larger than the device's largest allocation)" : "");
    return code == -4 || code == -5 || code == -6 || code == CL_INVALID_BUFFER_SIZE ? CT_ERR_OUT_OF_MEMORY
                                                                                   : CT_ERR_UNAVAILABLE;
}

static int refuse(const char *what)
{
    snprintf(last_error, sizeof last_error, "%s: invalid argument", what);
    return CT_ERR_INVALID_ARGUMENT;
}

/* Whether the handles came from an opened runtime (a handle made without one is refused, not called through). */
static int refuse_unless_loaded(const char *what)
{
    if (api.loaded) return CT_OK;
    snprintf(last_error, sizeof last_error, "%s: the OpenCL runtime is not open", what);
    return CT_ERR_UNAVAILABLE;
}

/* Whether bytes [offset, offset + bytes) lie inside `buffer` (its size asked of the runtime). */
static int check_range(void *buffer, int64_t offset, int64_t bytes, const char *what)
{
    size_t size = 0;
    cl_int code = api.get_buffer_info((cl_mem)buffer, CL_MEM_SIZE, sizeof size, &size, NULL);
    if (code != CL_SUCCESS) return cl_failure(what, code);
    if ((uint64_t)offset > size || (uint64_t)bytes > size - (uint64_t)offset) {
        snprintf(last_error, sizeof last_error, "%s: bytes [%lld, %lld + %lld) run past the buffer's %llu bytes",
                 what, (long long)offset, (long long)offset, (long long)bytes, (unsigned long long)size);
        return CT_ERR_INVALID_ARGUMENT;
    }
    return CT_OK;
}

#define LOAD(field, name)                                                   \
    do {                                                                    \
        *(void **)&api.field = ct_cl_symbol(name);                          \
        if (api.field == NULL) missing = missing == NULL ? name : missing; \
    } while (0)

static int load_api(void)
{
    if (api.loaded) return CT_OK;
    const char *missing = NULL;
    LOAD(create_context, "clCreateContext");
    LOAD(release_context, "clReleaseContext");
    LOAD(create_queue, "clCreateCommandQueue");
    LOAD(release_queue, "clReleaseCommandQueue");
    LOAD(get_device_info, "clGetDeviceInfo");
    LOAD(create_buffer, "clCreateBuffer");
    LOAD(release_buffer, "clReleaseMemObject");
    LOAD(get_buffer_info, "clGetMemObjectInfo");
    LOAD(write_buffer, "clEnqueueWriteBuffer");
    LOAD(read_buffer, "clEnqueueReadBuffer");
    LOAD(copy_buffer, "clEnqueueCopyBuffer");
    LOAD(fill_buffer, "clEnqueueFillBuffer");
    LOAD(create_program, "clCreateProgramWithSource");
    LOAD(build_program, "clBuildProgram");
    LOAD(get_build_info, "clGetProgramBuildInfo");
    LOAD(release_program, "clReleaseProgram");
    LOAD(create_kernel, "clCreateKernel");
    LOAD(release_kernel, "clReleaseKernel");
    LOAD(set_kernel_arg, "clSetKernelArg");
    LOAD(enqueue_kernel, "clEnqueueNDRangeKernel");
    LOAD(finish, "clFinish");
    if (missing != NULL) {
        snprintf(last_error, sizeof last_error, "the OpenCL runtime is not open or lacks %s", missing);
        return CT_ERR_UNAVAILABLE;
    }
    api.loaded = 1;
    return CT_OK;
}

#undef LOAD

/* ---------------------------------------------------------------- queues */

int ct_cl_queue_create(int64_t device_index, ct_cl_queue **out)
{
    if (out == NULL) return refuse("ct_cl_queue_create");
    *out = NULL;
    int status = load_api();
    if (status != CT_OK) return status;
    cl_device_id device = ct_cl_device_handle(device_index);
    if (device == NULL) return refuse("ct_cl_queue_create (no such device)");
    ct_cl_queue *queue = ct_aligned_alloc(1, sizeof *queue);
    if (queue == NULL) return CT_ERR_OUT_OF_MEMORY;
    memset(queue, 0, sizeof *queue);
    queue->device = device;
    cl_int code = CL_SUCCESS;
    queue->context = api.create_context(NULL, 1, &device, NULL, NULL, &code);
    if (queue->context == NULL || code != CL_SUCCESS) {
        ct_aligned_free(queue);
        return cl_failure("clCreateContext", code);
    }
    queue->queue = api.create_queue(queue->context, device, 0, &code); /* in order, no profiling */
    if (queue->queue == NULL || code != CL_SUCCESS) {
        api.release_context(queue->context);
        ct_aligned_free(queue);
        return cl_failure("clCreateCommandQueue", code);
    }
    size_t group = 1;
    if (api.get_device_info(device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof group, &group, NULL) != CL_SUCCESS) group = 1;
    queue->max_work_group_size = (int64_t)group;
    *out = queue;
    return CT_OK;
}

void ct_cl_queue_release(ct_cl_queue *queue)
{
    if (queue == NULL) return;
    api.finish(queue->queue);
    api.release_queue(queue->queue);
    api.release_context(queue->context);
    ct_aligned_free(queue);
}

int64_t ct_cl_queue_max_work_group_size(const ct_cl_queue *queue)
{
    return queue == NULL ? 0 : queue->max_work_group_size;
}

int ct_cl_finish(ct_cl_queue *queue)
{
    if (queue == NULL) return refuse("ct_cl_finish");
    cl_int code = api.finish(queue->queue);
    return code == CL_SUCCESS ? CT_OK : cl_failure("clFinish", code);
}

/* ---------------------------------------------------------------- buffers */

int ct_cl_buffer_create(ct_cl_queue *queue, int64_t bytes, const void *host, void **buffer)
{
    if (buffer != NULL) *buffer = NULL;
    if (queue == NULL || buffer == NULL || bytes <= 0) return refuse("ct_cl_buffer_create");
    cl_int code = CL_SUCCESS;
    cl_bitfield flags = CL_MEM_READ_WRITE | (host != NULL ? CL_MEM_COPY_HOST_PTR : 0);
    *buffer = api.create_buffer(queue->context, flags, (size_t)bytes, (void *)host, &code);
    if (*buffer == NULL || code != CL_SUCCESS) {
        *buffer = NULL;
        return cl_failure("clCreateBuffer", code);
    }
    return CT_OK;
}

void ct_cl_buffer_release(void *buffer)
{
    if (buffer != NULL && api.loaded) api.release_buffer((cl_mem)buffer);
}

/* A blocking write (host -> buffer) or read (buffer -> host) of bytes [offset, offset + bytes). */
static int transfer(const char *what, ct_cl_queue *queue, void *buffer, int64_t offset, int64_t bytes, void *host,
                    int writing)
{
    if (queue == NULL || buffer == NULL || offset < 0 || bytes < 0 || (bytes > 0 && host == NULL))
        return refuse(what);
    int status = check_range(buffer, offset, bytes, what);
    if (status != CT_OK || bytes == 0) return status;
    cl_int code = writing ? api.write_buffer(queue->queue, (cl_mem)buffer, CL_TRUE, (size_t)offset, (size_t)bytes,
                                             host, 0, NULL, NULL)
                          : api.read_buffer(queue->queue, (cl_mem)buffer, CL_TRUE, (size_t)offset, (size_t)bytes,
                                            host, 0, NULL, NULL);
    return code == CL_SUCCESS ? CT_OK : cl_failure(writing ? "clEnqueueWriteBuffer" : "clEnqueueReadBuffer", code);
}

int ct_cl_buffer_write(ct_cl_queue *queue, void *buffer, int64_t offset, int64_t bytes, const void *host)
{
    return transfer("ct_cl_buffer_write", queue, buffer, offset, bytes, (void *)host, 1); /* (only read from) */
}

int ct_cl_buffer_read(ct_cl_queue *queue, void *buffer, int64_t offset, int64_t bytes, void *host)
{
    return transfer("ct_cl_buffer_read", queue, buffer, offset, bytes, host, 0);
}

int ct_cl_buffer_copy(ct_cl_queue *queue, void *source, int64_t source_offset, void *destination,
                      int64_t destination_offset, int64_t bytes)
{
    if (queue == NULL || source == NULL || destination == NULL || source_offset < 0 || destination_offset < 0 ||
        bytes < 0)
        return refuse("ct_cl_buffer_copy");
    int status = check_range(source, source_offset, bytes, "ct_cl_buffer_copy (source)");
    if (status == CT_OK) status = check_range(destination, destination_offset, bytes, "ct_cl_buffer_copy");
    if (status != CT_OK || bytes == 0) return status;
    cl_int code = api.copy_buffer(queue->queue, (cl_mem)source, (cl_mem)destination, (size_t)source_offset,
                                  (size_t)destination_offset, (size_t)bytes, 0, NULL, NULL);
    return code == CL_SUCCESS ? CT_OK : cl_failure("clEnqueueCopyBuffer", code);
}

int ct_cl_buffer_fill(ct_cl_queue *queue, void *buffer, const void *pattern, int64_t pattern_size, int64_t offset,
                      int64_t bytes)
{
    if (queue == NULL || buffer == NULL || pattern == NULL || pattern_size <= 0 || offset < 0 || bytes < 0 ||
        offset % pattern_size != 0 || bytes % pattern_size != 0)
        return refuse("ct_cl_buffer_fill");
    int status = check_range(buffer, offset, bytes, "ct_cl_buffer_fill");
    if (status != CT_OK || bytes == 0) return status;
    cl_int code = api.fill_buffer(queue->queue, (cl_mem)buffer, pattern, (size_t)pattern_size, (size_t)offset,
                                  (size_t)bytes, 0, NULL, NULL);
    return code == CL_SUCCESS ? CT_OK : cl_failure("clEnqueueFillBuffer", code);
}

/* ---------------------------------------------------------------- programs and kernels */

/* The build log into log[0, capacity) (terminated; cut to fit). */
static void build_log(ct_cl_queue *queue, cl_program program, char *log, int64_t capacity)
{
    if (log == NULL || capacity <= 0) return;
    size_t length = 0;
    log[0] = '\0';
    if (api.get_build_info(program, queue->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &length) != CL_SUCCESS) return;
    char *text = ct_aligned_alloc(length + 1, 1);
    if (text == NULL) return;
    if (api.get_build_info(program, queue->device, CL_PROGRAM_BUILD_LOG, length, text, NULL) == CL_SUCCESS) {
        text[length] = '\0';
        size_t kept = CT_MIN(strlen(text), (size_t)capacity - 1);
        memcpy(log, text, kept);
        log[kept] = '\0';
    }
    ct_aligned_free(text);
}

int ct_cl_program_build(ct_cl_queue *queue, const char *source, const char *options, void **program, char *log,
                        int64_t log_capacity)
{
    if (queue == NULL || source == NULL || program == NULL) return refuse("ct_cl_program_build");
    *program = NULL;
    if (log != NULL && log_capacity > 0) log[0] = '\0';
    cl_int code = CL_SUCCESS;
    cl_program built = api.create_program(queue->context, 1, &source, NULL, &code);
    if (built == NULL || code != CL_SUCCESS) {
        if (built != NULL) api.release_program(built);
        return cl_failure("clCreateProgramWithSource", code);
    }
    code = api.build_program(built, 1, &queue->device, options == NULL ? "" : options, NULL, NULL);
    if (code != CL_SUCCESS) {
        build_log(queue, built, log, log_capacity);
        api.release_program(built);
        int status = cl_failure("clBuildProgram", code);
        return code == CL_BUILD_PROGRAM_FAILURE ? CT_ERR_INVALID_ARGUMENT : status;
    }
    *program = built;
    return CT_OK;
}

void ct_cl_program_release(void *program)
{
    if (program != NULL && api.loaded) api.release_program((cl_program)program);
}

int ct_cl_kernel_create(void *program, const char *name, void **kernel)
{
    if (program == NULL || name == NULL || kernel == NULL) return refuse("ct_cl_kernel_create");
    *kernel = NULL;
    int status = refuse_unless_loaded("ct_cl_kernel_create");
    if (status != CT_OK) return status;
    cl_int code = CL_SUCCESS;
    *kernel = api.create_kernel((cl_program)program, name, &code);
    if (*kernel == NULL || code != CL_SUCCESS) {
        *kernel = NULL;
        snprintf(last_error, sizeof last_error, "clCreateKernel(%.200s) failed with OpenCL error %d", name, (int)code);
        return CT_ERR_INVALID_ARGUMENT;
    }
    return CT_OK;
}

void ct_cl_kernel_release(void *kernel)
{
    if (kernel != NULL && api.loaded) api.release_kernel((cl_kernel)kernel);
}

int ct_cl_kernel_set_arg(void *kernel, int64_t index, int64_t size, const void *value)
{
    if (kernel == NULL || index < 0 || size <= 0) return refuse("ct_cl_kernel_set_arg");
    int status = refuse_unless_loaded("ct_cl_kernel_set_arg");
    if (status != CT_OK) return status;
    cl_int code = api.set_kernel_arg((cl_kernel)kernel, (cl_uint)index, (size_t)size, value);
    if (code == CL_SUCCESS) return CT_OK;
    snprintf(last_error, sizeof last_error, "clSetKernelArg(%lld, %lld bytes) failed with OpenCL error %d",
             (long long)index, (long long)size, (int)code);
    return CT_ERR_INVALID_ARGUMENT;
}

int ct_cl_kernel_run(ct_cl_queue *queue, void *kernel, int dims, const int64_t *global, const int64_t *local)
{
    if (queue == NULL || kernel == NULL || dims < 1 || dims > 3 || global == NULL) return refuse("ct_cl_kernel_run");
    size_t global_size[3], local_size[3];
    for (int d = 0; d < dims; d++) {
        if (global[d] <= 0 || (local != NULL && (local[d] <= 0 || global[d] % local[d] != 0)))
            return refuse("ct_cl_kernel_run (sizes)");
        global_size[d] = (size_t)global[d];
        local_size[d] = local != NULL ? (size_t)local[d] : 0;
    }
    cl_int code = api.enqueue_kernel(queue->queue, (cl_kernel)kernel, (cl_uint)dims, NULL, global_size,
                                     local != NULL ? local_size : NULL, 0, NULL, NULL);
    return code == CL_SUCCESS ? CT_OK : cl_failure("clEnqueueNDRangeKernel", code);
}

/* Each argument is copied out of the packed bytes into aligned storage first (drivers read cl_mem and vector
 * arguments as their own types). */
int ct_cl_kernel_launch(ct_cl_queue *queue, void *kernel, int64_t arg_count, const char *arg_sizes,
                        const char *arg_data, int dims, const int64_t *global, const int64_t *local)
{
    /* (the queue too is checked before any argument is set: a refused launch leaves the kernel as it was) */
    if (queue == NULL || kernel == NULL || arg_count < 0 || (arg_count > 0 && (arg_sizes == NULL || arg_data == NULL)))
        return refuse("ct_cl_kernel_launch");
    _Alignas(128) unsigned char value[128];
    int64_t offset = 0;
    for (int64_t i = 0; i < arg_count; i++) {
        int64_t size = (unsigned char)arg_sizes[i];
        if (size == 0 || size > (int64_t)sizeof value) return refuse("ct_cl_kernel_launch (argument size)");
        memcpy(value, arg_data + offset, (size_t)size);
        int status = ct_cl_kernel_set_arg(kernel, i, size, value);
        if (status != CT_OK) return status;
        offset += size;
    }
    return ct_cl_kernel_run(queue, kernel, dims, global, local);
}
