/*
 * emulate.cc - the fake driver's kernel emulator: it compiles the cuda
 * plugin's own device code (plugins/cuda/kernels.cu, with lanes.h and
 * ops.cuh) as host C++ and runs a launch on the CPU, so that a machine
 * without a GPU runs the very kernels the plugin ships: trit-conformance
 * holds them to the reference, and trit run on a simulated GPU produces the
 * tokens a CPU run does (FAKECUDA_LAUNCH=emulate, see fakecuda.c).
 *
 * A block runs as one cooperative fiber per thread (ucontext) on the calling
 * thread; __syncthreads() yields to the scheduler, which resumes every live
 * thread in turn, so a barrier is passed only once every thread that has not
 * returned reached it. Warp shuffles go through a slot per thread between
 * two barriers (the kernels call them with every live thread of the block).
 * Blocks run one after another, so a __shared__ array is a static one.
 * Device memory is the fake's host mapping: a CUdeviceptr is an address.
 *
 * What it cannot show: timing, the hardware's warp scheduling (a kernel that
 * relied on lockstep execution without a barrier would pass here and fail on
 * a GPU), launch limits beyond those fakecuda.c checks, the accuracy of the
 * GPU's own exp/tanh/sin/cos (the host's libm runs here), and nvcc's code
 * generation. Floating-point contraction is off (local.mk), as nvcc's
 * --fmad=false.
 */
#include <build-config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include <cmath>
#include <cstddef>
#include <utility>

#include <trit/quant.h>

/* ------------------------------------------------------------------------ */
/* Switching between fibers                                                  */

/*
 * On x86-64 a switch saves the callee-saved registers on the old stack and
 * swaps stack pointers: no system call (swapcontext saves the signal mask
 * with one, which made the emulator ten times slower). Elsewhere ucontext.
 */
#if defined(__x86_64__) && defined(__linux__)
#define FK_ASM_SWITCH 1
extern "C" void fk_switch(void **save_sp, void *new_sp);
asm(".text\n"
    ".globl fk_switch\n"
    ".hidden fk_switch\n"
    ".type fk_switch, @function\n"
    "fk_switch:\n"
    "\tpushq %rbp\n\tpushq %rbx\n\tpushq %r12\n\tpushq %r13\n\tpushq %r14\n\tpushq %r15\n"
    "\tsubq $8, %rsp\n\tstmxcsr (%rsp)\n\tfnstcw 4(%rsp)\n"
    "\tmovq %rsp, (%rdi)\n"
    "\tmovq %rsi, %rsp\n"
    "\tldmxcsr (%rsp)\n\tfldcw 4(%rsp)\n\taddq $8, %rsp\n"
    "\tpopq %r15\n\tpopq %r14\n\tpopq %r13\n\tpopq %r12\n\tpopq %rbx\n\tpopq %rbp\n"
    "\tret\n"
    ".size fk_switch, .-fk_switch\n");
#endif

/* ------------------------------------------------------------------------ */
/* The CUDA built-ins the kernels use                                        */

namespace {

struct dim3e {
	unsigned x, y, z;
};

struct emu {
	dim3e grid, block, bid, tid;
	unsigned n_threads;       /* of the block */
	unsigned cur;             /* the running fiber */
#ifdef FK_ASM_SWITCH
	void *sched;              /* the scheduler's saved stack pointer */
	void **sp;                /* each fiber's */
#else
	ucontext_t sched;
	ucontext_t *fibers;
#endif
	unsigned char *done;
	char *stacks;             /* n_cap x STACK bytes */
	unsigned n_cap;
	uint32_t *slots;          /* shuffle exchange, two per thread */
	unsigned *parity;         /* which of its two a thread writes next */
	unsigned char *dyn;       /* dynamic shared memory */
	size_t dyn_cap;
	void (*run)(void **);
	void **params;
};

emu E;

const size_t STACK = 256 * 1024;

void yield()
{
#ifdef FK_ASM_SWITCH
	fk_switch(&E.sp[E.cur], E.sched);
#else
	swapcontext(&E.fibers[E.cur], &E.sched);
#endif
}

template <class T> T shfl_down(unsigned mask, T v, int o)
{
	static_assert(sizeof(T) == 4, "32-bit shuffles only");
	uint32_t bits, got;
	unsigned me = E.cur, lane = me % 32, par = E.parity[me];
	uint32_t *slot = E.slots + (size_t)par * E.n_threads;
	T out;

	/* Two slot arrays used in turn: a thread writes one, waits for the
	 * block, reads; its next shuffle writes the other, and by the time a
	 * thread comes back to this one every thread has passed the barrier
	 * after which the reads of it were made. */
	(void)mask;
	memcpy(&bits, &v, 4);
	slot[me] = bits;
	E.parity[me] = !par;
	yield();
	got = lane + (unsigned)o < 32 ? slot[me + (unsigned)o] : bits;
	memcpy(&out, &got, 4);
	return out;
}

int atomic_cas(int *p, int cmp, int val)
{
	int old = *p;
	if (old == cmp)
		*p = val;
	return old;
}

struct half_e {
	unsigned short u;
};

float uint_as_float(unsigned u)
{
	float f;
	memcpy(&f, &u, 4);
	return f;
}

unsigned float_as_uint(float f)
{
	unsigned u;
	memcpy(&u, &f, 4);
	return u;
}

} // namespace

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
#define blockIdx E.bid
#define threadIdx E.tid
#define blockDim E.block
#define gridDim E.grid
#define __syncthreads() yield()
#define __shfl_down_sync(mask, v, o) shfl_down((mask), (v), (o))
#define atomicCAS(p, c, v) atomic_cas((p), (c), (v))
#define __fmul_rn(a, b) ((a) * (b))
#define __fdiv_rn(a, b) ((a) / (b))
#define __uint_as_float(u) uint_as_float(u)
#define __float_as_uint(f) float_as_uint(f)
#define __ushort_as_half(u) (half_e{ (unsigned short)(u) })
#define __half_as_ushort(h) ((h).u)
#define __half2float(h) trit_f16_to_f32((h).u)
#define __float2half_rn(f) (half_e{ trit_f32_to_f16(f) })
#define CU_DYN_SHARED(type, name) type *name = (type *)(void *)E.dyn

using std::cos;
using std::pow;
using std::sin;

#include "../../plugins/cuda/kernels.cu"

/* ------------------------------------------------------------------------ */
/* Calling a kernel with the driver's parameter array                        */

namespace {

template <class... A, std::size_t... I>
void invoke(void (*f)(A...), void **p, std::index_sequence<I...>)
{
	f(*static_cast<std::remove_reference_t<A> *>(p[I])...);
}

template <class... A> void call(void (*f)(A...), void **p)
{
	invoke(f, p, std::index_sequence_for<A...>{});
}

struct kernel {
	const char *name;
	void (*run)(void **);
	int sync;             /* uses __syncthreads or shuffles: needs fibers */
};

#define K(fn, sync) { #fn, [](void **p) { call(fn, p); }, sync }

const kernel kernels[] = {
	K(trit_quantize, 1), K(trit_pad_i8, 0),
	K(trit_i2s_gemv, 1), K(trit_i2s_gemm, 1), K(trit_tl1_gemv, 1), K(trit_tl1_gemm, 1),
	K(trit_tl2_gemv, 1), K(trit_tl2_gemm, 1),
	K(op_unary, 0), K(op_binary, 0), K(op_rms_norm, 1), K(op_quantize, 1), K(op_rope, 0),
	K(op_get_rows, 0), K(op_cpy, 0), K(op_kv_write, 0), K(op_attention, 1),
	K(op_matmul_f, 1), K(op_quant_q8, 0), K(op_matmul_q8, 1),
};

void trampoline()
{
	E.run(E.params);
	E.done[E.cur] = 1;
#ifdef FK_ASM_SWITCH
	void *dead;
	fk_switch(&dead, E.sched); /* never resumed */
	abort();
#endif
	/* ucontext: uc_link returns to the scheduler */
}

void free_fibers()
{
	if (E.stacks)
		munmap(E.stacks, (size_t)E.n_cap * STACK);
#ifndef FK_ASM_SWITCH
	free(E.fibers);
	E.fibers = NULL;
#endif
	free(E.done);
	free(E.slots);
	free(E.parity);
#ifdef FK_ASM_SWITCH
	free(E.sp);
	E.sp = NULL;
#endif
	E.stacks = NULL;
	E.done = NULL;
	E.slots = NULL;
	E.parity = NULL;
	E.n_cap = 0;
}

/* Room for n threads and `shared` bytes of dynamic shared memory. */
int reserve(unsigned n, size_t shared)
{
	if (n > E.n_cap) {
		free_fibers();
		void *st = mmap(NULL, (size_t)n * STACK, PROT_READ | PROT_WRITE,
		                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		E.stacks = st == MAP_FAILED ? NULL : (char *)st;
		E.n_cap = n; /* what free_fibers unmaps */
#ifndef FK_ASM_SWITCH
		E.fibers = (ucontext_t *)calloc(n, sizeof *E.fibers);
		if (!E.fibers) {
			free_fibers();
			return -1;
		}
#endif
		E.done = (unsigned char *)calloc(n, 1);
		E.slots = (uint32_t *)calloc(2 * (size_t)n, sizeof *E.slots);
		E.parity = (unsigned *)calloc(n, sizeof *E.parity);
#ifdef FK_ASM_SWITCH
		E.sp = (void **)calloc(n, sizeof *E.sp);
		if (!E.sp) {
			free_fibers();
			return -1;
		}
#endif
		if (!E.stacks || !E.done || !E.slots || !E.parity) {
			free_fibers();
			return -1;
		}
	}
	if (shared > E.dyn_cap) {
		free(E.dyn);
		if (!(E.dyn = (unsigned char *)calloc(shared, 1)))
			return E.dyn_cap = 0, -1;
		E.dyn_cap = shared;
	}
	return 0;
}

void set_tid(unsigned i)
{
	E.cur = i;
	E.tid = dim3e{ i % E.block.x, i / E.block.x % E.block.y, i / (E.block.x * E.block.y) };
}

/* Fiber i, ready to start at trampoline on its own stack. */
void fiber_start(unsigned i)
{
	char *top = E.stacks + (size_t)(i + 1) * STACK;
#ifdef FK_ASM_SWITCH
	/* what fk_switch pops: mxcsr and x87 control (8 bytes), six registers,
	 * then trampoline's address for its ret, below an unused return slot;
	 * at trampoline's first instruction rsp + 8 is 16-byte aligned, as
	 * after a call */
	void **sp = (void **)(void *)(top - 72);
	uint32_t csr[2];
	asm volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(csr[0]), "=m"(csr[1]));
	memcpy(&sp[0], csr, 8);
	for (int r = 1; r <= 6; r++)
		sp[r] = NULL;
	sp[7] = (void *)trampoline;
	E.sp[i] = sp;
#else
	getcontext(&E.fibers[i]);
	E.fibers[i].uc_stack.ss_sp = top - STACK;
	E.fibers[i].uc_stack.ss_size = STACK;
	E.fibers[i].uc_link = &E.sched;
	makecontext(&E.fibers[i], trampoline, 0);
#endif
	E.done[i] = 0;
	E.parity[i] = 0;
}

void resume(unsigned i)
{
#ifdef FK_ASM_SWITCH
	fk_switch(&E.sched, E.sp[i]);
#else
	swapcontext(&E.sched, &E.fibers[i]);
#endif
}

void run_block(int sync)
{
	unsigned n = E.n_threads, live = n;

	if (!sync) { /* no barrier: each thread runs to its end in turn */
		for (unsigned i = 0; i < n; i++) {
			set_tid(i);
			E.run(E.params);
		}
		return;
	}
	for (unsigned i = 0; i < n; i++)
		fiber_start(i);
	/* a round resumes every live thread once: each runs to its next
	 * barrier or to its end */
	while (live) {
		live = 0;
		for (unsigned i = 0; i < n; i++) {
			if (E.done[i])
				continue;
			set_tid(i);
			resume(i);
			if (!E.done[i])
				live++;
		}
	}
}

} // namespace

/*
 * Run kernel `name` with the grid and blocks given, its parameters as
 * cuLaunchKernel takes them. 0 when it ran; -1 with why filled when the
 * kernel is not one the emulator knows or memory ran out.
 */
extern "C" int fakecuda_emulate(const char *name, unsigned gx, unsigned gy, unsigned gz,
                                unsigned bx, unsigned by, unsigned bz, unsigned shared,
                                void **params, char *why, size_t whylen)
{
	const kernel *k = NULL;

	for (const kernel &c : kernels)
		if (strcmp(c.name, name) == 0)
			k = &c;
	if (!k) {
		snprintf(why, whylen, "the emulator has no kernel '%s'", name);
		return -1;
	}
	if (reserve(bx * by * bz, shared) != 0) {
		snprintf(why, whylen, "out of host memory for %u emulated threads", bx * by * bz);
		return -1;
	}
	E.grid = dim3e{ gx, gy, gz };
	E.block = dim3e{ bx, by, bz };
	E.n_threads = bx * by * bz;
	E.run = k->run;
	E.params = params;
	for (unsigned z = 0; z < gz; z++)
		for (unsigned y = 0; y < gy; y++)
			for (unsigned x = 0; x < gx; x++) {
				E.bid = dim3e{ x, y, z };
				run_block(k->sync);
			}
	return 0;
}
