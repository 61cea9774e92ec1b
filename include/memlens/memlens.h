/* memlens: one header that includes the whole public API. */
#ifndef MEMLENS_MEMLENS_H
#define MEMLENS_MEMLENS_H

#include <memlens/common.h>
#include <memlens/proc.h>
#include <memlens/maps.h>
#include <memlens/source.h>
#include <memlens/idle.h>
#include <memlens/wss.h>
#include <memlens/pagemap.h>
#include <memlens/mem.h>
#include <memlens/clear_refs.h>
#include <memlens/kpage.h>
#include <memlens/snapshot.h>

#endif
#include <memlens/freeze.h>
