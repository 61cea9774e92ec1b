/* memlens: one header that includes the whole public API. Every header it includes has its
 * own guard, so this one needs none: lines are only ever added, in any order. */

#include <memlens/common.h>
#include <memlens/proc.h>
#include <memlens/maps.h>
#include <memlens/source.h>
#include <memlens/bitmap.h>
#include <memlens/bstr.h>
#include <memlens/status.h>
#include <memlens/stat.h>
#include <memlens/statm.h>
#include <memlens/cmdline.h>
#include <memlens/procinfo.h>
#include <memlens/links.h>
#include <memlens/task.h>
#include <memlens/fd.h>
#include <memlens/auxv.h>
#include <memlens/limits.h>
#include <memlens/io.h>
#include <memlens/schedstat.h>
#include <memlens/idle.h>
#include <memlens/wss.h>
#include <memlens/pagemap.h>
#include <memlens/mem.h>
#include <memlens/clear_refs.h>
#include <memlens/kpage.h>
#include <memlens/snapshot.h>
#include <memlens/coreinfo.h>
#include <memlens/smaps.h>
#include <memlens/cgroup.h>
#include <memlens/ns.h>
#include <memlens/mountinfo.h>
#include <memlens/net.h>
#include <memlens/freeze.h>
#include <memlens/capture.h>
#include <memlens/digest.h>
#include <memlens/procs.h>
