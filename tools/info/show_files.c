/* memlens info --show, what the process holds: cwd/exe/root, fds, mounts, namespaces, cgroups, tasks, maps, smaps_rollup. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "info/show.h"

static int show_link(show_ctx *c, const char *name)
{
	int r = show_need_live(c);
	ml_link *l;
	if (r < 0 || (r = ml_link_read(c->p, name, &l)) < 0)
		return r;
	em *e = c->e;
	em_begin(e, false);
	K_STR(e, "path", l->path, l->len);
	K_BOOL(e, "deleted", l->deleted);
	if (l->via_tid)
		K_I64(e, "via_tid", l->via_tid);
	END_OBJ(e);
	ml_link_free(l);
	return 0;
}

int show_cwd(show_ctx *c) { return show_link(c, "cwd"); }
int show_exe(show_ctx *c) { return show_link(c, "exe"); }
int show_root(show_ctx *c) { return show_link(c, "root"); }

int show_fd_count(show_ctx *c)
{
	int r = show_need_live(c);
	if (r < 0)
		return r;
	ssize_t n = ml_fd_count(c->p);
	if (n < 0)
		return (int)n;
	em_u64(c->e, (uint64_t)n);
	return 0;
}

int show_fd(show_ctx *c)
{
	int r = show_need_live(c);
	ml_fds *it;
	if (r < 0 || (r = ml_fds_open(c->p, &it)) < 0)
		return r;
	em *e = c->e;
	ml_fd f;
	/* open the array only once the first entry (or the end) is known to read */
	bool begun = false;
	while ((r = ml_fds_next(it, &f)) == 1) {
		if (!begun) {
			em_begin(e, true);
			begun = true;
		}
		em_begin(e, false);
		K_I64(e, "fd", f.fd);
		K_CSTR(e, "type", ml_fd_type_name(f.type));
		K_STR(e, "target", f.target.ptr, f.target.len);
		if (f.inode)
			K_U64(e, "inode", f.inode);
		if (f.name.len)
			K_STR(e, "name", f.name.ptr, f.name.len);
		K_BOOL(e, "deleted", f.deleted);
		char mode[8];
		snprintf(mode, sizeof(mode), "%c%c%c", f.mode & ML_FD_MODE_READ ? 'r' : '-',
			 f.mode & ML_FD_MODE_WRITE ? 'w' : '-', f.mode & ML_FD_MODE_EXEC ? 'x' : '-');
		K_CSTR(e, "mode", mode);
		ml_fdinfo *fi;
		int fr = ml_fd_from_fd(c->p, f.fd, &fi);
		if (fr == 0) {
			K_U64(e, "pos", fi->pos);
			char fl[16];
			snprintf(fl, sizeof(fl), "0%o", fi->flags);
			K_CSTR(e, "flags", fl);
			K_I64(e, "mnt_id", fi->mnt_id);
			ml_fdinfo_free(fi);
		} else if (fr != -EBADF) {
			char part[32];
			snprintf(part, sizeof(part), "%d", f.fd);
			show_err_note(c, part, fr, NULL);
		}
		END_OBJ(e);
	}
	ml_fds_free(it);
	if (r < 0) {
		if (!begun)
			return r;
		show_err_note(c, NULL, r, NULL);
	}
	if (!begun)
		em_begin(e, true);
	END_ARR(e);
	return 0;
}

int show_mountinfo(show_ctx *c)
{
	ml_mountinfo *mi;
	READ_OR_PARSE(c, ml_mountinfo_read(c->p, &mi), "mountinfo", ml_mountinfo_parse(b, n, &mi));
	em *e = c->e;
	em_begin(e, true);
	for (size_t i = 0; i < ml_mountinfo_count(mi); i++) {
		const ml_mount *m = ml_mountinfo_get(mi, i);
		em_begin(e, false);
		K_U64(e, "mnt_id", m->mount_id);
		K_U64(e, "pid", m->parent_id);
		char mm[32];
		snprintf(mm, sizeof(mm), "%u:%u", m->dev_major, m->dev_minor);
		K_CSTR(e, "majmin", mm);
		K_STR(e, "root", m->root, m->root_len);
		K_STR(e, "mount_point", m->mount_point, m->mount_point_len);
		K_OBJ(e, "mount_options");
		for (size_t k = 0; k < m->nopts; k++) {
			char key[128];
			snprintf(key, sizeof(key), "%.*s", (int)(m->opts[k].name_len < 127 ? m->opts[k].name_len : 127),
				 m->opts[k].name);
			put_bytes_key(e, key, m->opts[k].value, m->opts[k].value_len);
		}
		END_OBJ(e);
		K_ARR(e, "opt_fields");
		for (size_t k = 0; k < m->ntags; k++) {
			char tag[128];
			snprintf(tag, sizeof(tag), "%s%s%s", m->tags[k].tag, m->tags[k].value ? ":" : "",
				 m->tags[k].value ? m->tags[k].value : "");
			em_cstr(e, tag);
		}
		END_ARR(e);
		K_STR(e, "fs_type", m->fs_type, m->fs_type_len);
		put_bytes_key(e, "mount_source", m->source, m->source_len);
		K_OBJ(e, "super_options");
		for (size_t k = 0; k < m->nsuper_opts; k++) {
			char key[128];
			const ml_mount_opt *o = &m->super_opts[k];
			snprintf(key, sizeof(key), "%.*s", (int)(o->name_len < 127 ? o->name_len : 127), o->name);
			put_bytes_key(e, key, o->value, o->value_len);
		}
		END_OBJ(e);
		END_OBJ(e);
	}
	END_ARR(e);
	ml_mountinfo_free(mi);
	return 0;
}

int show_mountstats(show_ctx *c)
{
	ml_mountstats *ms;
	READ_OR_PARSE(c, ml_mountstats_read(c->p, &ms), "mountstats", ml_mountstats_parse(b, n, &ms));
	em *e = c->e;
	em_begin(e, true);
	for (size_t i = 0; i < ml_mountstats_count(ms); i++) {
		const ml_mountstats_mount *m = ml_mountstats_get(ms, i);
		em_begin(e, false);
		put_bytes_key(e, "device", m->device, m->device_len);
		K_STR(e, "mount_point", m->mount_point, m->mount_point_len);
		K_STR(e, "fs", m->fs_type, m->fs_type_len);
		em_key(e, "statvers");
		m->statvers ? em_cstr(e, m->statvers) : em_null(e);
		if (m->nfields || m->nops) {
			K_OBJ(e, "statistics");
			for (size_t k = 0; k < m->nfields; k++) {
				const ml_mountstats_field *f = &m->fields[k];
				em_key(e, f->name);
				if (f->nnumbers > 1) {
					em_begin(e, true);
					for (size_t x = 0; x < f->nnumbers; x++)
						em_u64(e, f->numbers[x]);
					END_ARR(e);
				} else if (f->nnumbers == 1) {
					em_u64(e, f->numbers[0]);
				} else {
					em_str(e, f->value, f->value_len);
				}
			}
			K_OBJ(e, "per_op_stats");
			for (size_t k = 0; k < m->nops; k++) {
				ml_nfs_op op;
				if (ml_mountstats_nfs_op(&m->ops[k], &op) == 0) {
					K_OBJ(e, op.name);
					K_U64(e, "operations", op.operations);
					K_U64(e, "transmissions", op.transmissions);
					K_U64(e, "major_timeouts", op.major_timeouts);
					K_U64(e, "bytes_sent", op.bytes_sent);
					K_U64(e, "bytes_recv", op.bytes_recv);
					K_U64(e, "cum_queue_time_ms", op.cum_queue_ms);
					K_U64(e, "cum_resp_time_ms", op.cum_resp_ms);
					K_U64(e, "cum_total_req_time_ms", op.cum_total_req_ms);
					if (op.has_errors)
						K_U64(e, "errors", op.errors);
					END_OBJ(e);
					continue;
				}
				K_ARR(e, m->ops[k].name);
				for (size_t x = 0; x < m->ops[k].nvalues; x++)
					em_u64(e, m->ops[k].values[x]);
				END_ARR(e);
			}
			END_OBJ(e);
			END_OBJ(e);
			ml_nfs_stats ns;
			if (ml_mountstats_nfs(m, &ns) == 0) {
				static const char *const ev[ML_NFS_EVENTS] = {
					"inode_revalidate", "dentry_revalidate", "data_invalidate", "attr_invalidate",
					"vfs_open", "vfs_lookup", "vfs_access", "vfs_update_page", "vfs_read_page",
					"vfs_read_pages", "vfs_write_page", "vfs_write_pages", "vfs_getdents",
					"vfs_setattr", "vfs_flush", "vfs_fsync", "vfs_lock", "vfs_release",
					"congestion_wait", "setattr_trunc", "extend_write", "silly_rename", "short_read",
					"short_write", "delay", "pnfs_read", "pnfs_write",
				};
				static const char *const by[ML_NFS_BYTES] = { "normal_read", "normal_write", "direct_read",
					"direct_write", "server_read", "server_write", "pages_read", "pages_write" };
				K_OBJ(e, "nfs");
				if (ns.has_age)
					K_U64(e, "age", ns.age_s);
				if (ns.has_caps) {
					K_ARR(e, "server_caps");
					em_bit_names(e, ns.caps, 0, ml_nfs_cap_name);
					END_ARR(e);
				}
				if (ns.has_events) {
					uint64_t v[ML_NFS_EVENTS];
					memcpy(v, &ns.events, sizeof(v));
					K_OBJ(e, "events");
					for (size_t x = 0; x < ns.nevents; x++)
						K_U64(e, ev[x], v[x]);
					END_OBJ(e);
				}
				if (ns.has_bytes) {
					uint64_t v[ML_NFS_BYTES];
					memcpy(v, &ns.bytes, sizeof(v));
					K_OBJ(e, "bytes");
					for (size_t x = 0; x < ML_NFS_BYTES; x++)
						K_U64(e, by[x], v[x]);
					END_OBJ(e);
				}
				END_OBJ(e);
			}
		}
		END_OBJ(e);
	}
	END_ARR(e);
	ml_mountstats_free(ms);
	return 0;
}

int show_namespaces(show_ctx *c)
{
	int r = show_need_live(c);
	ml_namespaces *ns;
	if (r < 0 || (r = ml_namespaces_read(c->p, &ns)) < 0)
		return r;
	em *e = c->e;
	em_begin(e, false);
	for (size_t i = 0; i < ml_namespaces_count(ns); i++) {
		const ml_ns *x = ml_namespaces_get(ns, i);
		if (x->err) {
			/* named in errors with its reason, never silently left out */
			show_err_note(c, x->name, x->err, x->err == -ENOENT ? "not in this kernel" : NULL);
			continue;
		}
		K_OBJ(e, x->name);
		K_CSTR(e, "ns_type", x->type);
		K_CSTR(e, "path", x->path);
		K_U64(e, "identifier", x->inode);
		em_key(e, "device_id");
		x->dev_known ? em_u64(e, x->dev) : em_null(e);
		END_OBJ(e);
	}
	END_OBJ(e);
	ml_namespaces_free(ns);
	return 0;
}

int show_cgroups(show_ctx *c)
{
	ml_cgroups *cg;
	READ_OR_PARSE(c, ml_cgroups_read(c->p, &cg), "cgroup", ml_cgroups_parse(b, n, &cg));
	em *e = c->e;
	em_begin(e, true);
	for (size_t i = 0; i < ml_cgroups_count(cg); i++) {
		const ml_cgroup *g = ml_cgroups_get(cg, i);
		em_begin(e, false);
		K_U64(e, "hierarchy", g->hierarchy);
		K_ARR(e, "controllers");
		for (size_t k = 0; k < g->nnames; k++)
			em_cstr(e, g->names[k]);
		END_ARR(e);
		K_STR(e, "pathname", g->path, g->path_len);
		END_OBJ(e);
	}
	END_ARR(e);
	ml_cgroups_free(cg);
	return 0;
}

int show_tasks(show_ctx *c)
{
	int r = show_need_live(c);
	ml_tasks *it;
	if (r < 0 || (r = ml_tasks_open(c->p, &it)) < 0)
		return r;
	em *e = c->e;
	em_begin(e, true);
	ml_proc *t;
	while ((r = ml_tasks_next(it, &t)) == 1) {
		ml_stat st;
		int sr = ml_stat_read(t, &st);
		em_begin(e, false);
		K_I64(e, "tid", ml_proc_pid(t));
		if (sr == 0) {
			K_STR(e, "comm", st.comm, st.comm_len);
			char sc[2] = { st.state, 0 };
			K_CSTR(e, "state", sc);
			K_U64(e, "utime", st.utime);
			K_U64(e, "stime", st.stime);
			K_I64(e, "processor", st.processor);
		}
		pid_t *kids;
		size_t nk;
		ssize_t kr = ml_task_children_read(t, &kids, &nk);
		em_key(e, "children");
		if (kr >= 0) {
			em_begin(e, true);
			for (size_t k = 0; k < nk; k++)
				em_i64(e, kids[k]);
			END_ARR(e);
			free(kids);
		} else {
			em_null(e);
		}
		END_OBJ(e);
		ml_proc_free(t);
	}
	ml_tasks_free(it);
	if (r < 0)
		show_err_note(c, NULL, r, NULL);
	END_ARR(e);
	return 0;
}

int show_smaps_rollup(show_ctx *c)
{
	ml_smaps_rollup *ru;
	READ_OR_PARSE(c, ml_smaps_rollup_read(c->p, &ru), "smaps_rollup", ml_smaps_rollup_parse(b, n, &ru));
	em *e = c->e;
	em_begin(e, false);
	for (int f = 0; f < ML_SMAPS_NFIELDS; f++)
		if (ru->f.present & (1ull << f)) {
			char key[64];
			lower_key(key, sizeof(key), ml_smaps_field_name((ml_smaps_field)f));
			K_SIZE(e, key, ru->f.v[f]);
		}
	END_OBJ(e);
	ml_smaps_rollup_free(ru);
	return 0;
}

int show_maps(show_ctx *c)
{
	ml_maps *m;
	int r = ml_source_maps(c->s, &m);
	if (r < 0)
		return r;
	em *e = c->e;
	em_begin(e, true);
	for (size_t i = 0; i < ml_maps_count(m); i++) {
		const ml_vma *v = ml_maps_get(m, i);
		char perms[5];
		em_begin(e, false);
		K_ADDR(e, "start", v->start);
		K_ADDR(e, "end", v->end);
		K_CSTR(e, "perms", ml_vma_perms_str(v->perms, perms));
		K_U64(e, "offset", v->offset);
		char dev[32];
		snprintf(dev, sizeof(dev), "%02x:%02x", v->dev_major, v->dev_minor);
		K_CSTR(e, "dev", dev);
		K_U64(e, "inode", v->inode);
		K_CSTR(e, "kind", ml_vma_kind_name(v->kind));
		K_STR(e, "pathname", v->name, v->name_len);
		K_BOOL(e, "deleted", v->deleted);
		END_OBJ(e);
	}
	END_ARR(e);
	ml_maps_free(m);
	return 0;
}
