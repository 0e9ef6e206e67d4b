/* clock.h — the two clocks nightshift reads, in milliseconds: wall time
 * (epoch, for what is stored and compared across processes: leases,
 * not-before times, ledger stamps) and monotonic time (for durations
 * within a process: latencies, timeouts, rates), which no clock step
 * can move backwards.
 * Thread-safe (reads the kernel's clocks). */
#ifndef NIGHTSHIFT_CLOCK_H
#define NIGHTSHIFT_CLOCK_H

#include <stdint.h>

/* clk_wall_ms: now, epoch milliseconds (CLOCK_REALTIME). */
int64_t clk_wall_ms(void);
/* clk_mono_ms: milliseconds since an arbitrary start (CLOCK_MONOTONIC). */
int64_t clk_mono_ms(void);

#endif
