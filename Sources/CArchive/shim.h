#ifndef AIRLOCK_CARCHIVE_SHIM_H
#define AIRLOCK_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>

/* AE_IF* are macros with casts that Swift does not import. */
static const unsigned int airlock_ae_ifreg = AE_IFREG;
static const unsigned int airlock_ae_ifdir = AE_IFDIR;
static const unsigned int airlock_ae_iflnk = AE_IFLNK;
#endif
