/* mountstats parser: captured device lines, and the NFS statistics layout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/memlens.h>

#include "mltest.h"

static char *slurp(const char *rel, size_t *len)
{
	return mlt_read_fixture(rel, len);
}

START_TEST(fixture_device_lines)
{
	size_t len;
	char *buf = slurp("net-mounts/mountstats", &len);
	ml_mountstats *ms;
	ck_assert_int_eq(ml_mountstats_parse(buf, len, &ms), 0);
	size_t lines = 0;
	for (const char *s = buf; *s; s++)
		lines += *s == '\n';
	ck_assert_uint_eq(ml_mountstats_count(ms), lines);
	/* every entry matches the mountinfo captured with it, in order */
	char *mbuf = slurp("net-mounts/mountinfo", &len);
	ml_mountinfo *mi;
	ck_assert_int_eq(ml_mountinfo_parse(mbuf, len, &mi), 0);
	ck_assert_uint_eq(ml_mountinfo_count(mi), ml_mountstats_count(ms));
	bool saw_odd = false;
	for (size_t i = 0; i < ml_mountstats_count(ms); i++) {
		const ml_mountstats_mount *m = ml_mountstats_get(ms, i);
		const ml_mount *mo = ml_mountinfo_get(mi, i);
		ck_assert_uint_eq(m->mount_point_len, mo->mount_point_len);
		ck_assert(!memcmp(m->mount_point, mo->mount_point, m->mount_point_len));
		ck_assert_str_eq(m->fs_type, mo->fs_type);
		ck_assert_ptr_nonnull(m->device);
		ck_assert_str_eq(m->device, mo->source);
		ck_assert_uint_eq(m->nfields, 0);
		ck_assert_uint_eq(m->nops, 0);
		ck_assert_ptr_null(m->statvers);
		if (!strcmp(m->device, "src with space")) {
			saw_odd = true;
			ck_assert_ptr_nonnull(memchr(m->mount_point, '\n', m->mount_point_len));
		}
	}
	ck_assert(saw_odd);
	ml_mountinfo_free(mi);
	ml_mountstats_free(ms);
	free(mbuf);
	free(buf);
}
END_TEST

/* Laid out as the kernel's NFS client prints it (fs/nfs/super.c); no NFS mount was
 * available where the fixtures were captured, so this one is written by hand. */
static const char nfs[] =
	"device proc mounted on /proc with fstype proc\n"
	"device srv:/export\\040x mounted on /mnt/nfs with fstype nfs4 statvers=1.1\n"
	"\topts:\trw,vers=4.2,rsize=1048576,wsize=1048576,namlen=255,hard,proto=tcp,timeo=600,retrans=2,sec=sys\n"
	"\tage:\t3600\n"
	"\timpl_id:\tname='',domain='',date='0,0'\n"
	"\tcaps:\tcaps=0x3ffbffff,wtmult=512,dtsize=1048576,bsize=0,namlen=255\n"
	"\tsec:\tflavor=1,pseudoflavor=1\n"
	"\tevents:\t3 204 0 1 2 8 340 0 0 12 0 0 0 0 1 0 0 1 0 0 0 0 0 0 0 0 0\n"
	"\tbytes:\t1024 0 0 0 4096 0 1 0\n"
	"\tRPC iostats version: 1.1  p/v: 100003/4 (nfs)\n"
	"\txprt:\ttcp 0 1 1 0 0 55 55 0 55 0 2 0 0\n"
	"\tper-op statistics\n"
	"\t        NULL: 1 1 0 44 24 0 0 0 0\n"
	"\t        READ: 12 12 0 2200 42000 3 14 18 0\n"
	"\t       WRITE: 0 0 0 0 0 0 0 0 0\n"
	"\t     GETATTR: 7 7 0 1100 1500 0 2 2 1\n"
	"\n"
	"no device mounted on /x with fstype weird\n";

START_TEST(nfs_statistics)
{
	ml_mountstats *ms;
	ck_assert_int_eq(ml_mountstats_parse(nfs, sizeof(nfs) - 1, &ms), 0);
	ck_assert_uint_eq(ml_mountstats_count(ms), 3);
	const ml_mountstats_mount *m = ml_mountstats_get(ms, 1);
	ck_assert_str_eq(m->device, "srv:/export x");
	ck_assert_str_eq(m->mount_point, "/mnt/nfs");
	ck_assert_str_eq(m->fs_type, "nfs4");
	ck_assert_str_eq(m->statvers, "1.1");
	ck_assert_uint_eq(m->nfields, 10);
	const ml_mountstats_field *f = ml_mountstats_find_field(m, "opts");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->nnumbers, 0);
	ck_assert_str_eq(f->value, "rw,vers=4.2,rsize=1048576,wsize=1048576,namlen=255,hard,proto=tcp,timeo=600,retrans=2,sec=sys");
	f = ml_mountstats_find_field(m, "age");
	ck_assert_uint_eq(f->nnumbers, 1);
	ck_assert_uint_eq(f->numbers[0], 3600);
	f = ml_mountstats_find_field(m, "events");
	ck_assert_uint_eq(f->nnumbers, 27);
	ck_assert_uint_eq(f->numbers[1], 204);
	ck_assert_uint_eq(f->numbers[6], 340);
	f = ml_mountstats_find_field(m, "bytes");
	ck_assert_uint_eq(f->nnumbers, 8);
	ck_assert_uint_eq(f->numbers[4], 4096);
	f = ml_mountstats_find_field(m, "xprt");
	ck_assert_str_eq(f->value, "tcp 0 1 1 0 0 55 55 0 55 0 2 0 0");
	ck_assert_uint_eq(f->nnumbers, 0);
	f = ml_mountstats_find_field(m, "RPC iostats version");
	ck_assert_str_eq(f->value, "1.1  p/v: 100003/4 (nfs)");
	ck_assert_ptr_nonnull(ml_mountstats_find_field(m, "per-op statistics"));
	ck_assert_str_eq(ml_mountstats_find_field(m, "impl_id")->value, "name='',domain='',date='0,0'");
	ck_assert_uint_eq(m->nops, 4);
	const ml_mountstats_op *o = ml_mountstats_find_op(m, "READ");
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(o->nvalues, 9);
	ck_assert_uint_eq(o->values[0], 12);
	ck_assert_uint_eq(o->values[4], 42000);
	ck_assert_uint_eq(o->values[7], 18);
	ck_assert_uint_eq(ml_mountstats_find_op(m, "GETATTR")->values[8], 1);
	ck_assert_str_eq(m->ops[0].name, "NULL");
	ck_assert_ptr_null(ml_mountstats_find_op(m, "COMMIT"));
	/* typed, as procfs's MountNFSStatistics */
	ml_nfs_stats ns;
	ck_assert_int_eq(ml_mountstats_nfs(m, &ns), 0);
	ck_assert_str_eq(ns.statvers, "1.1");
	ck_assert(ns.has_age && ns.age_s == 3600);
	ck_assert(ns.has_caps);
	ck_assert_uint_eq(ns.caps, 0x3ffbffff);
	ck_assert(ns.caps & ML_NFS_CAP_READDIRPLUS && ns.caps & ML_NFS_CAP_SEEK && !(ns.caps & (1u << 18)));
	ck_assert_uint_eq(ns.wtmult, 512);
	ck_assert_uint_eq(ns.dtsize, 1048576);
	ck_assert_uint_eq(ns.namlen, 255);
	ck_assert(ns.has_events && ns.nevents == 27);
	ck_assert_uint_eq(ns.events.inode_revalidate, 3);
	ck_assert_uint_eq(ns.events.dentry_revalidate, 204);
	ck_assert_uint_eq(ns.events.vfs_access, 340);
	ck_assert_uint_eq(ns.events.vfs_read_pages, 12);
	ck_assert_uint_eq(ns.events.vfs_flush, 1);
	ck_assert_uint_eq(ns.events.vfs_release, 1);
	ck_assert(ns.has_bytes);
	ck_assert_uint_eq(ns.bytes.normal_read, 1024);
	ck_assert_uint_eq(ns.bytes.server_read, 4096);
	ck_assert_uint_eq(ns.bytes.pages_read, 1);
	ck_assert_str_eq(ns.sec, "flavor=1,pseudoflavor=1");
	ck_assert_ptr_nonnull(strstr(ns.opts, "vers=4.2"));
	ck_assert_str_eq(ml_nfs_cap_name(0), "READDIRPLUS");
	ck_assert_str_eq(ml_nfs_cap_name(31), "MOVEABLE");
	ck_assert_ptr_null(ml_nfs_cap_name(10));
	ml_nfs_op op;
	ck_assert_int_eq(ml_mountstats_nfs_op(ml_mountstats_find_op(m, "READ"), &op), 0);
	ck_assert_str_eq(op.name, "READ");
	ck_assert_uint_eq(op.operations, 12);
	ck_assert_uint_eq(op.bytes_recv, 42000);
	ck_assert_uint_eq(op.cum_queue_ms, 3);
	ck_assert_uint_eq(op.cum_resp_ms, 14);
	ck_assert_uint_eq(op.cum_total_req_ms, 18);
	ck_assert(op.has_errors && op.errors == 0);
	ck_assert_int_eq(ml_mountstats_nfs_op(ml_mountstats_find_op(m, "GETATTR"), &op), 0);
	ck_assert_uint_eq(op.errors, 1);
	/* the others have no statistics */
	ck_assert_int_eq(ml_mountstats_nfs(ml_mountstats_get(ms, 0), &ns), -ENOENT);
	ck_assert_uint_eq(ml_mountstats_get(ms, 0)->nfields, 0);
	const ml_mountstats_mount *nd = ml_mountstats_get(ms, 2);
	ck_assert_ptr_null(nd->device);
	ck_assert_str_eq(nd->mount_point, "/x");
	ml_mountstats_free(ms);
}
END_TEST

START_TEST(nfs_malformed_parts)
{
	static const char *const bad[] = {
		"device a mounted on /b with fstype nfs statvers=1.1\n\tcaps:\twtmult=512\n",
		"device a mounted on /b with fstype nfs statvers=1.1\n\tcaps:\tcaps=zz,wtmult=512\n",
		"device a mounted on /b with fstype nfs statvers=1.1\n\tbytes:\t1 2 3\n",
		"device a mounted on /b with fstype nfs statvers=1.1\n\tevents:\t1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28\n",
		"device a mounted on /b with fstype nfs statvers=1.1\n\tage:\tsoon\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ml_mountstats *ms;
		ck_assert_int_eq(ml_mountstats_parse(bad[i], strlen(bad[i]), &ms), 0);
		ml_nfs_stats ns;
		ck_assert_msg(ml_mountstats_nfs(ml_mountstats_get(ms, 0), &ns) == -EBADMSG, "case %zu", i);
		ml_mountstats_free(ms);
	}
	/* an older kernel's shorter events line is fine; the rest read as 0 */
	const char old[] = "device a mounted on /b with fstype nfs statvers=1.0\n\tevents:\t1 2 3\n\tper-op statistics\n\tREAD: 1 2 3 4 5 6 7 8\n";
	ml_mountstats *ms;
	ck_assert_int_eq(ml_mountstats_parse(old, sizeof(old) - 1, &ms), 0);
	ml_nfs_stats ns;
	ck_assert_int_eq(ml_mountstats_nfs(ml_mountstats_get(ms, 0), &ns), 0);
	ck_assert_uint_eq(ns.nevents, 3);
	ck_assert_uint_eq(ns.events.data_invalidate, 3);
	ck_assert_uint_eq(ns.events.pnfs_write, 0);
	ck_assert(!ns.has_bytes && !ns.has_caps && !ns.has_age);
	ml_nfs_op op;
	ck_assert_int_eq(ml_mountstats_nfs_op(&ml_mountstats_get(ms, 0)->ops[0], &op), 0);
	ck_assert(!op.has_errors);
	ck_assert_uint_eq(op.cum_total_req_ms, 8);
	ml_mountstats_op short_op = { "X", (const uint64_t[]){ 1, 2 }, 2 };
	ck_assert_int_eq(ml_mountstats_nfs_op(&short_op, &op), -EBADMSG);
	ml_mountstats_free(ms);
}
END_TEST

START_TEST(malformed)
{
	static const char *const bad[] = {
		"\tage: 1\n",                                        /* statistics before any device */
		"device a mounted on\n",
		"device a mounted at /b with fstype c\n",
		"device a mounted on /b with type c\n",
		"device a mounted on /b with fstype\n",
		"hello\n",
		"device a mounted on /b with fstype c\nbad line\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ml_mountstats *ms = (ml_mountstats *)0x1;
		ck_assert_msg(ml_mountstats_parse(bad[i], strlen(bad[i]), &ms) == -EBADMSG, "accepted: %s", bad[i]);
		ck_assert_ptr_eq(ms, (ml_mountstats *)0x1);
	}
	/* an op line that is not all numbers is kept as a field, not lost */
	static const char odd[] = "device a mounted on /b with fstype nfs\n\tper-op statistics\n\tREAD: 1 x\n\tbare words\n";
	ml_mountstats *ms;
	ck_assert_int_eq(ml_mountstats_parse(odd, sizeof(odd) - 1, &ms), 0);
	const ml_mountstats_mount *m = ml_mountstats_get(ms, 0);
	ck_assert_uint_eq(m->nops, 0);
	ck_assert_str_eq(ml_mountstats_find_field(m, "READ")->value, "1 x");
	ck_assert_str_eq(ml_mountstats_find_field(m, "bare words")->value, "");
	ml_mountstats_free(ms);
	ck_assert_int_eq(ml_mountstats_parse("", 0, &ms), 0);
	ck_assert_uint_eq(ml_mountstats_count(ms), 0);
	ml_mountstats_free(ms);
	ml_mountstats_free(NULL);
	ck_assert_int_eq(ml_mountstats_parse(NULL, 2, &ms), -EINVAL);
}
END_TEST

START_TEST(reads_self)
{
	ml_proc *p;
	ck_assert_int_eq(ml_proc_self(&p), 0);
	ml_mountstats *ms;
	ml_mountinfo *mi;
	ck_assert_int_eq(ml_mountstats_read(p, &ms), 0);
	ck_assert_int_eq(ml_mountinfo_read(p, &mi), 0);
	/* one entry per mount, as the two files are produced from the same table */
	ck_assert_uint_eq(ml_mountstats_count(ms), ml_mountinfo_count(mi));
	ml_mountinfo_free(mi);
	ml_mountstats_free(ms);
	ml_proc_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mountstats");
	TCase *tc = tcase_create("mountstats");
	tcase_add_test(tc, fixture_device_lines);
	tcase_add_test(tc, nfs_statistics);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, nfs_malformed_parts);
	tcase_add_test(tc, reads_self);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
