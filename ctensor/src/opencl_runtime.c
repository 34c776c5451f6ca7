/*
 * The OpenCL runtime, loaded at run time: dlopen("libOpenCL.so.1") (the ICD
 * loader) and dlsym the few entry points used, with the CL types they need
 * declared in opencl_internal.h. No OpenCL headers at build time and no link-time dependency:
 * where OpenCL is absent, ct_cl_open reports why and everything else in
 * ctensor works as before. opencl_device.c builds on the devices listed here.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "ctensor_internal.h"
#include "opencl_internal.h"

#define CT_CL_MAX_DEVICES 64

static struct {
    int opened; /* 1: devices listed; -1: failed (message says why) */
    void *library;
    cl_int (*get_platform_ids)(cl_uint, cl_platform_id *, cl_uint *);
    cl_int (*get_platform_info)(cl_platform_id, cl_uint, size_t, void *, size_t *);
    cl_int (*get_device_ids)(cl_platform_id, cl_bitfield, cl_uint, cl_device_id *, cl_uint *);
    cl_int (*get_device_info)(cl_device_id, cl_uint, size_t, void *, size_t *);
    int64_t device_count;
    cl_device_id devices[CT_CL_MAX_DEVICES];
    cl_platform_id device_platforms[CT_CL_MAX_DEVICES];
    char message[512];
} runtime;

static int fail(const char *format, const char *detail)
{
    snprintf(runtime.message, sizeof runtime.message, format, detail);
    runtime.opened = -1;
    return CT_ERR_UNAVAILABLE;
}

static void *symbol(const char *name)
{
    return runtime.library == NULL ? NULL : dlsym(runtime.library, name);
}

void *ct_cl_symbol(const char *name) { return runtime.opened == 1 ? symbol(name) : NULL; }

cl_device_id ct_cl_device_handle(int64_t index)
{
    return runtime.opened == 1 && index >= 0 && index < runtime.device_count ? runtime.devices[index] : NULL;
}

/* Every device of every platform, in platform order. */
static int list_devices(void)
{
    cl_platform_id platforms[16];
    cl_uint platform_count = 0;
    cl_int status = runtime.get_platform_ids(16, platforms, &platform_count);
    if (status == CL_PLATFORM_NOT_FOUND_KHR || (status == CL_SUCCESS && platform_count == 0))
        return fail("%s", "the OpenCL loader found no platform (no driver installed: e.g. pocl-opencl-icd)");
    if (status != CL_SUCCESS) return fail("%s", "clGetPlatformIDs failed");
    for (cl_uint p = 0; p < platform_count && p < 16; p++) {
        cl_uint count = 0;
        cl_device_id *slot = runtime.devices + runtime.device_count;
        cl_uint room = (cl_uint)(CT_CL_MAX_DEVICES - runtime.device_count);
        status = runtime.get_device_ids(platforms[p], CL_DEVICE_TYPE_ALL, room, slot, &count);
        if (status == CL_DEVICE_NOT_FOUND) continue;
        if (status != CL_SUCCESS) return fail("%s", "clGetDeviceIDs failed");
        count = CT_MIN(count, room);
        for (cl_uint d = 0; d < count; d++) runtime.device_platforms[runtime.device_count + d] = platforms[p];
        runtime.device_count += count;
    }
    if (runtime.device_count == 0) return fail("%s", "the OpenCL platforms report no device");
    runtime.opened = 1;
    return CT_OK;
}

int ct_cl_open(const char *library_path)
{
    if (runtime.opened != 0) return runtime.opened == 1 ? CT_OK : CT_ERR_UNAVAILABLE;
    const char *path = library_path != NULL && library_path[0] != '\0' ? library_path : "libOpenCL.so.1";
    runtime.library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (runtime.library == NULL)
        return fail("cannot load the OpenCL loader %s (install an ICD loader and a driver, e.g. the packages "
                    "ocl-icd-libopencl1 and pocl-opencl-icd)", path);
    runtime.get_platform_ids = (cl_int(*)(cl_uint, cl_platform_id *, cl_uint *))symbol("clGetPlatformIDs");
    runtime.get_platform_info =
        (cl_int(*)(cl_platform_id, cl_uint, size_t, void *, size_t *))symbol("clGetPlatformInfo");
    runtime.get_device_ids =
        (cl_int(*)(cl_platform_id, cl_bitfield, cl_uint, cl_device_id *, cl_uint *))symbol("clGetDeviceIDs");
    runtime.get_device_info = (cl_int(*)(cl_device_id, cl_uint, size_t, void *, size_t *))symbol("clGetDeviceInfo");
    if (!runtime.get_platform_ids || !runtime.get_platform_info || !runtime.get_device_ids ||
        !runtime.get_device_info)
        return fail("the OpenCL loader %s lacks the OpenCL 1.2 entry points", path);
    return list_devices();
}

const char *ct_cl_error(void) { return runtime.opened == -1 ? runtime.message : ""; }

int64_t ct_cl_device_count(void) { return runtime.opened == 1 ? runtime.device_count : 0; }

/* A string property into text (capacity >= 1): read whole, then cut to fit; always terminated. */
static int copy_string(const char *value, size_t length, char *text, size_t capacity)
{
    size_t kept = CT_MIN(length, capacity - 1);
    memcpy(text, value, kept);
    text[kept] = '\0';
    return CT_OK;
}

static int device_string(cl_device_id device, cl_uint param, char *text, size_t capacity)
{
    size_t length = 0;
    if (runtime.get_device_info(device, param, 0, NULL, &length) != CL_SUCCESS) return CT_ERR_UNAVAILABLE;
    char *value = ct_aligned_alloc(length + 1, 1);
    if (value == NULL) return CT_ERR_OUT_OF_MEMORY;
    int status = runtime.get_device_info(device, param, length, value, NULL) == CL_SUCCESS ? CT_OK : CT_ERR_UNAVAILABLE;
    value[length] = '\0';
    if (status == CT_OK) copy_string(value, strlen(value), text, capacity);
    ct_aligned_free(value);
    return status;
}

static int platform_string(cl_platform_id platform, cl_uint param, char *text, size_t capacity)
{
    char value[256] = {0}; /* names are short; a longer one is refused by the driver and reported */
    if (runtime.get_platform_info(platform, param, sizeof value - 1, value, NULL) != CL_SUCCESS)
        return CT_ERR_UNAVAILABLE;
    return copy_string(value, strlen(value), text, capacity);
}

int ct_cl_device_info(int64_t index, ct_cl_device *info)
{
    if (runtime.opened != 1 || index < 0 || index >= runtime.device_count || info == NULL)
        return CT_ERR_INVALID_ARGUMENT;
    cl_device_id device = runtime.devices[index];
    memset(info, 0, sizeof *info);
    int status = device_string(device, CL_DEVICE_NAME, info->name, sizeof info->name);
    if (status == CT_OK) status = device_string(device, CL_DEVICE_VERSION, info->version, sizeof info->version);
    if (status == CT_OK)
        status = platform_string(runtime.device_platforms[index], CL_PLATFORM_NAME, info->platform,
                                 sizeof info->platform);
    if (status != CT_OK) return status;
    cl_uint units = 0, local_type = 0;
    cl_ulong memory = 0;
    if (runtime.get_device_info(device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL) != CL_SUCCESS ||
        runtime.get_device_info(device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof memory, &memory, NULL) != CL_SUCCESS ||
        runtime.get_device_info(device, CL_DEVICE_LOCAL_MEM_TYPE, sizeof local_type, &local_type, NULL) != CL_SUCCESS)
        return CT_ERR_UNAVAILABLE;
    info->compute_units = units;
    info->local_memory = local_type == CL_LOCAL;
    info->global_memory = (int64_t)memory;
    char extensions[8192];
    status = device_string(device, CL_DEVICE_EXTENSIONS, extensions, sizeof extensions);
    info->has_fp64 = status == CT_OK && strstr(extensions, "cl_khr_fp64") != NULL;
    return status;
}
