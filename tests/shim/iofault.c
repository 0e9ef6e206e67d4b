/* iofault.c — an LD_PRELOAD shim for tests that makes storage fail on cue,
 * as SQLite's own tests do with their simulated I/O errors: the Nth write,
 * sync, truncate or read of the database's files, the Nth allocation
 * SQLite makes, or the disk filling up, SQLite's files or plain ones.
 *
 *   NS_FAULT=SPEC[,SPEC...]   SPEC is KIND:N (only the Nth call fails) or
 *                             KIND:N+ (the Nth and every later one)
 *     write   xWrite   -> SQLITE_IOERR_WRITE
 *     sync    xSync    -> SQLITE_IOERR_FSYNC
 *     trunc   xTruncate-> SQLITE_IOERR_TRUNCATE
 *     read    xRead    -> SQLITE_IOERR_READ
 *     full    xWrite   -> SQLITE_FULL, from the Nth on (a full disk stays full)
 *     malloc  SQLite's allocator returns NULL
 *     enospc  write(2)/fwrite(3) to a file under $NS_FAULT_PATH fails with
 *             ENOSPC, from the Nth on (export files, batch input files)
 *   NS_FAULT_LOG=FILE         at exit, append one line of counts,
 *                             "write N sync N trunc N read N malloc N
 *                             enospc N injected N", so a test learns how
 *                             many calls an operation makes and whether
 *                             its fault was hit
 *
 * How: sqlite3_open_v2 is interposed. At the first open, before SQLite
 * initializes (nightshift opens its queue only through it, after its own
 * sqlite3_config calls), the shim wraps SQLite's default allocator with
 * SQLITE_CONFIG_MALLOC, which SQLite accepts only before it initializes,
 * then registers a VFS that wraps the default one as the new default.
 * Counters are atomic: the run's store thread and the main thread both
 * open the database. Built plain (no sanitizer), linked to nothing but
 * libdl; SQLite's symbols are looked up at run time. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum kind {
	K_WRITE,
	K_SYNC,
	K_TRUNC,
	K_READ,
	K_FULL,
	K_MALLOC,
	K_ENOSPC,
	K_COUNT
};
static const char *const NAMES[K_COUNT] = {"write", "sync",   "trunc", "read",
					   "full",  "malloc", "enospc"};

/* Per kind: the call that fails (0: none) and whether later ones do too. */
static long long at[K_COUNT];
static int sticky[K_COUNT];
static long long calls[K_COUNT];
static long long injected;

static void parse(void)
{
	const char *s = getenv("NS_FAULT");

	while (s && *s) {
		size_t k = strcspn(s, ",");

		for (int i = 0; i < K_COUNT; i++) {
			size_t n = strlen(NAMES[i]);
			char *end;

			if (k <= n || strncmp(s, NAMES[i], n) != 0 ||
			    s[n] != ':')
				continue;
			at[i] = strtoll(s + n + 1, &end, 10);
			sticky[i] = *end == '+' || i == K_FULL || i == K_ENOSPC;
		}
		s += k + (s[k] == ',');
	}
}

/* start: read the spec before any write(2) the process makes. */
__attribute__((constructor)) static void start(void)
{
	parse();
}

/* hit: count a call of kind k; 1 when it is to fail. */
static int hit(enum kind k)
{
	long long n = __atomic_add_fetch(&calls[k], 1, __ATOMIC_RELAXED);

	if (at[k] <= 0 || n < at[k] || (n > at[k] && !sticky[k]))
		return 0;
	__atomic_add_fetch(&injected, 1, __ATOMIC_RELAXED);
	return 1;
}

__attribute__((destructor)) static void report(void)
{
	const char *log = getenv("NS_FAULT_LOG");
	char line[256];
	int len, fd;

	if (!log || !*log)
		return;
	len =
	    snprintf(line, sizeof(line),
		     "write %lld sync %lld trunc %lld read %lld malloc %lld "
		     "enospc %lld injected %lld\n",
		     calls[K_WRITE], calls[K_SYNC], calls[K_TRUNC],
		     calls[K_READ], calls[K_MALLOC], calls[K_ENOSPC], injected);
	fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)len) < 0) {
		/* the test that reads the log finds it short */
	}
	close(fd);
}

/* ---- SQLite's files */

struct ffile {
	sqlite3_file base;
	sqlite3_file *real; /* the default VFS's file, right after this */
};

static sqlite3_vfs *real_vfs;
static sqlite3_io_methods methods;

#define REAL(f) (((struct ffile *)(f))->real)

static int f_close(sqlite3_file *f)
{
	return REAL(f)->pMethods->xClose(REAL(f));
}

static int f_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
	if (hit(K_READ))
		return SQLITE_IOERR_READ;
	return REAL(f)->pMethods->xRead(REAL(f), p, n, off);
}

static int f_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
	/* One count for both kinds: "write:N" and "full:N" name the same
	 * Nth write. */
	long long c = __atomic_add_fetch(&calls[K_WRITE], 1, __ATOMIC_RELAXED);

	if (at[K_FULL] > 0 && c >= at[K_FULL]) {
		__atomic_add_fetch(&injected, 1, __ATOMIC_RELAXED);
		return SQLITE_FULL;
	}
	if (at[K_WRITE] > 0 &&
	    (c == at[K_WRITE] || (c > at[K_WRITE] && sticky[K_WRITE]))) {
		__atomic_add_fetch(&injected, 1, __ATOMIC_RELAXED);
		return SQLITE_IOERR_WRITE;
	}
	return REAL(f)->pMethods->xWrite(REAL(f), p, n, off);
}

static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	if (hit(K_TRUNC))
		return SQLITE_IOERR_TRUNCATE;
	return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int f_sync(sqlite3_file *f, int flags)
{
	if (hit(K_SYNC))
		return SQLITE_IOERR_FSYNC;
	return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int f_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int f_lock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xLock(REAL(f), l);
}

static int f_unlock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), l);
}

static int f_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int f_control(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int f_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int f_device(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int f_shm_map(sqlite3_file *f, int pg, int sz, int extend,
		     void volatile **p)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, extend, p);
}

static int f_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}

static void f_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int f_shm_unmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static int f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	return REAL(f)->pMethods->xFetch(REAL(f), off, n, pp);
}

static int f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f,
		  int flags, int *out)
{
	struct ffile *ff = (struct ffile *)f;
	int rc;

	(void)vfs;
	ff->real = (sqlite3_file *)(ff + 1);
	rc = real_vfs->xOpen(real_vfs, name, ff->real, flags, out);
	/* One set of methods serves all files: the unix VFS gives every
	 * file version 3 (shared memory, memory-mapped reads). */
	f->pMethods = ff->real->pMethods ? &methods : NULL;
	return rc;
}

static sqlite3_vfs vfs;

/* ---- SQLite's allocator */

static sqlite3_mem_methods real_mem;

static void *m_malloc(int n)
{
	return hit(K_MALLOC) ? NULL : real_mem.xMalloc(n);
}

static void *m_realloc(void *p, int n)
{
	return hit(K_MALLOC) ? NULL : real_mem.xRealloc(p, n);
}

static void m_free(void *p)
{
	real_mem.xFree(p);
}

static int m_size(void *p)
{
	return real_mem.xSize(p);
}

static int m_roundup(int n)
{
	return real_mem.xRoundup(n);
}

static int m_init(void *arg)
{
	return real_mem.xInit(arg);
}

static void m_shutdown(void *arg)
{
	real_mem.xShutdown(arg);
}

static const sqlite3_mem_methods mem = {m_malloc,  m_free, m_realloc,  m_size,
					m_roundup, m_init, m_shutdown, NULL};

static void install(void)
{
	int (*config)(int, ...) =
	    (int (*)(int, ...))dlsym(RTLD_DEFAULT, "sqlite3_config");
	sqlite3_vfs *(*find)(const char *) = (sqlite3_vfs * (*)(const char *))
	    dlsym(RTLD_DEFAULT, "sqlite3_vfs_find");
	int (*reg)(sqlite3_vfs *, int) = (int (*)(sqlite3_vfs *, int))dlsym(
	    RTLD_DEFAULT, "sqlite3_vfs_register");

	if (!config || !find || !reg)
		return;
	/* Only before sqlite3_initialize; if SQLite had started already, an
	 * allocation fault asked for could never happen: say so. */
	if (config(SQLITE_CONFIG_GETMALLOC, &real_mem) != SQLITE_OK ||
	    config(SQLITE_CONFIG_MALLOC, &mem) != SQLITE_OK) {
		if (at[K_MALLOC] > 0)
			fprintf(stderr, "iofault: SQLite started before the "
					"shim: no allocation faults\n");
	}
	real_vfs = find(NULL);
	if (!real_vfs)
		return;
	methods = (sqlite3_io_methods){
	    3,		 f_close,    f_read,	 f_write,
	    f_truncate,	 f_sync,     f_size,	 f_lock,
	    f_unlock,	 f_reserved, f_control,	 f_sector,
	    f_device,	 f_shm_map,  f_shm_lock, f_shm_barrier,
	    f_shm_unmap, f_fetch,    f_unfetch};
	/* The other methods work on the copy: the unix VFS finds its state
	 * through pAppData, which is copied along. */
	vfs = *real_vfs;
	vfs.zName = "iofault";
	vfs.pNext = NULL;
	vfs.szOsFile = (int)sizeof(struct ffile) + real_vfs->szOsFile;
	vfs.xOpen = v_open;
	reg(&vfs, 1);
}

int sqlite3_open_v2(const char *name, sqlite3 **db, int flags, const char *zvfs)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int (*real)(const char *, sqlite3 **, int, const char *) =
	    (int (*)(const char *, sqlite3 **, int, const char *))dlsym(
		RTLD_NEXT, "sqlite3_open_v2");

	pthread_once(&once, install);
	return real(name, db, flags, zvfs);
}

/* ---- plain files: ENOSPC under $NS_FAULT_PATH */

/* under: 1 when fd is a file whose path starts with $NS_FAULT_PATH. */
static int under(int fd)
{
	const char *prefix = getenv("NS_FAULT_PATH");
	char link[64], path[PATH_MAX];
	ssize_t n;

	if (!prefix || !*prefix || fd < 0)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return 0;
	path[n] = '\0';
	return strncmp(path, prefix, strlen(prefix)) == 0;
}

ssize_t write(int fd, const void *p, size_t n)
{
	ssize_t (*real)(int, const void *, size_t) =
	    (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");

	if (under(fd) && hit(K_ENOSPC)) {
		errno = ENOSPC;
		return -1;
	}
	return real(fd, p, n);
}

/* fwrite's own flushes call the C library's inner write, which no shim
 * can reach: so fwrite itself fails, as a full buffer flush would. */
size_t fwrite(const void *p, size_t size, size_t n, FILE *f)
{
	size_t (*real)(const void *, size_t, size_t, FILE *) =
	    (size_t(*)(const void *, size_t, size_t, FILE *))dlsym(RTLD_NEXT,
								   "fwrite");

	if (under(fileno(f)) && hit(K_ENOSPC)) {
		errno = ENOSPC;
		return 0;
	}
	return real(p, size, n, f);
}
