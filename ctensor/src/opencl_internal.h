/*
 * What the OpenCL files share: the CL types and constants they use (from the
 * OpenCL 1.2 specification; no OpenCL headers are needed to build) and the
 * runtime's loaded library and device list (opencl_runtime.c).
 */
#ifndef CTENSOR_OPENCL_INTERNAL_H
#define CTENSOR_OPENCL_INTERNAL_H

#include <stdint.h>

typedef int32_t cl_int;
typedef uint32_t cl_uint;
typedef uint64_t cl_ulong;
typedef uint64_t cl_bitfield;
typedef struct cl_platform_opaque *cl_platform_id;
typedef struct cl_device_opaque *cl_device_id;
typedef struct cl_context_opaque *cl_context;
typedef struct cl_queue_opaque *cl_command_queue;
typedef struct cl_mem_opaque *cl_mem;
typedef struct cl_program_opaque *cl_program;
typedef struct cl_kernel_opaque *cl_kernel;
typedef struct cl_event_opaque *cl_event;

#define CL_SUCCESS 0
#define CL_DEVICE_NOT_FOUND (-1)
#define CL_BUILD_PROGRAM_FAILURE (-11)
#define CL_INVALID_BUFFER_SIZE (-61)
#define CL_PLATFORM_NOT_FOUND_KHR (-1001)
#define CL_TRUE 1
#define CL_FALSE 0
#define CL_DEVICE_TYPE_ALL ((cl_bitfield)0xFFFFFFFF)
#define CL_PLATFORM_NAME 0x0902
#define CL_DEVICE_MAX_COMPUTE_UNITS 0x1002
#define CL_DEVICE_MAX_WORK_GROUP_SIZE 0x1004
#define CL_DEVICE_GLOBAL_MEM_SIZE 0x101F
#define CL_DEVICE_LOCAL_MEM_TYPE 0x1022
#define CL_LOCAL 1
#define CL_DEVICE_NAME 0x102B
#define CL_DEVICE_VERSION 0x102F
#define CL_DEVICE_EXTENSIONS 0x1030
#define CL_MEM_READ_WRITE ((cl_bitfield)1 << 0)
#define CL_MEM_COPY_HOST_PTR ((cl_bitfield)1 << 5)
#define CL_MEM_SIZE 0x1102
#define CL_PROGRAM_BUILD_LOG 0x1183

/* The address of an OpenCL entry point in the loaded library, or NULL (not opened, or missing). */
void *ct_cl_symbol(const char *name);
/* The device `index` of the opened runtime, or NULL when out of range or not opened. */
cl_device_id ct_cl_device_handle(int64_t index);

#endif
