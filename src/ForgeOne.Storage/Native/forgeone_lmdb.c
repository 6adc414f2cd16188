/*
 * ForgeOne's build of LMDB 1.0.1: the package's mdb.c compiled as is, plus a page dump that
 * hot backups and incrementals read a shard through.
 *
 * Why a dump of our own rather than mdb_env_copy2 / mdb_env_incr_dumpfd:
 *  - Every page of LMDB 1.0 carries the id of the transaction that wrote it (mp_txnid), and
 *    copy-on-write rewrites a page (and its path to the root) whenever anything in it changes.
 *    So "every page reachable in snapshot S with mp_txnid > T" is exactly what changed between
 *    snapshots T and S, whatever the table or the kind of change (appends, deletes, rewrites).
 *    Page numbers are kept, so applying the dumps of a chain to one image in order rebuilds S.
 *  - The dump runs inside a read transaction the caller already holds, so the caller reads its
 *    manifest facts (record counts, audit head, keyring) from the same snapshot, and knows the
 *    snapshot's txnid; mdb_env_incr_dumpfd starts its own transaction and reports neither.
 *  - Pages on the snapshot's free list are skipped: they hold nothing the snapshot can reach and
 *    a concurrent writer may be reusing them, so the dump is as small as a compacting copy while
 *    keeping page numbers. The two meta pages are synthesized from the transaction, so the
 *    image opens at exactly this snapshot even when writers have since moved on.
 *
 * Stream: frames of  u64 pgno | u32 page count | u32 reserved(0) | count * page size bytes,
 * little-endian, in ascending page order, meta pages (0 and 1) first.
 */
#include "mdb.c"

#define FO_FRAME_HEADER 16

typedef struct fo_dump_info {
	uint64_t txnid;		/* the snapshot's transaction id */
	uint64_t next_pgno;	/* pages [0, next_pgno) make up the snapshot's file */
	uint32_t page_size;
	uint32_t reserved;
	uint64_t free_pages;	/* pages on the snapshot's free list (skipped) */
} fo_dump_info;

typedef struct fo_dump {
	MDB_txn *txn;
	MDB_env *env;
	txnid_t since;
	pgno_t next;		/* next page number to consider */
	pgno_t end;
	MDB_ID *free;		/* ascending */
	size_t nfree, ifree;
	unsigned psize;
	char *meta;			/* the two synthesized meta pages */
	int meta_done;
	/* the frame being emitted */
	unsigned char header[FO_FRAME_HEADER];
	const char *src;	/* page bytes of the current frame */
	size_t hdr_left, src_left;
	uint64_t pages_emitted;
	int error;
} fo_dump;

static int fo_cmp_id(const void *a, const void *b)
{
	MDB_ID x = *(const MDB_ID *)a, y = *(const MDB_ID *)b;
	return x < y ? -1 : x > y;
}

static void fo_put64(unsigned char *p, uint64_t v) { int i; for (i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void fo_put32(unsigned char *p, uint32_t v) { int i; for (i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }

/* Starts a dump of the pages of read transaction txn written after transaction `since`
 * (0 = every page). txn must stay open, and on one thread at a time, until fo_dump_end. */
int fo_dump_begin(MDB_txn *txn, uint64_t since, fo_dump **out, fo_dump_info *info)
{
	fo_dump *d;
	MDB_cursor mc;
	MDB_val key, data;
	MDB_env *env;
	size_t cap = 0;
	int rc, i;

	if (!txn || !out || !info)
		return EINVAL;
	if (!F_ISSET(txn->mt_flags, MDB_TXN_RDONLY))
		return EINVAL;
	if (txn->mt_flags & MDB_TXN_BLOCKED)
		return MDB_BAD_TXN;
	env = txn->mt_env;
#if MDB_RPAGE_CACHE
	if (MDB_REMAPPING(env->me_flags))
		return MDB_INCOMPATIBLE;
#endif

	d = calloc(1, sizeof(*d));
	if (!d)
		return ENOMEM;
	d->txn = txn;
	d->env = env;
	d->since = (txnid_t)since;
	d->psize = env->me_psize;
	d->next = NUM_METAS;
	d->end = txn->mt_next_pgno;

	/* The snapshot's free list: freeDB records are IDLs, element 0 the count. */
	mdb_cursor_init(&mc, txn, FREE_DBI, NULL);
	while ((rc = mdb_cursor_get(&mc, &key, &data, MDB_NEXT)) == 0) {
		MDB_ID *idl = (MDB_ID *)data.mv_data;
		MDB_ID n = idl[0];
		if (d->nfree + n > cap) {
			size_t want = cap ? cap * 2 : 1024;
			MDB_ID *grown;
			while (want < d->nfree + n)
				want *= 2;
			grown = realloc(d->free, want * sizeof(MDB_ID));
			if (!grown) {
				rc = ENOMEM;
				goto fail;
			}
			d->free = grown;
			cap = want;
		}
		memcpy(d->free + d->nfree, idl + 1, n * sizeof(MDB_ID));
		d->nfree += n;
	}
	if (rc != MDB_NOTFOUND)
		goto fail;
	if (d->nfree > 1)
		qsort(d->free, d->nfree, sizeof(MDB_ID), fo_cmp_id);

	/* Meta pages for exactly this snapshot: static fields from the environment's current
	 * meta, the databases, last page and txnid from the transaction. */
	d->meta = calloc(NUM_METAS, d->psize);
	if (!d->meta) {
		rc = ENOMEM;
		goto fail;
	}
	for (i = 0; i < NUM_METAS; i++) {
		MDB_page *mp = (MDB_page *)(d->meta + (size_t)i * d->psize);
		MDB_meta *mm = (MDB_meta *)METADATA(mp);
		mp->mp_pgno = i;
		mp->mp_flags = P_META;
		*mm = *env->me_metas[0];
		mm->mm_dbs[FREE_DBI] = txn->mt_dbs[FREE_DBI];
		mm->mm_dbs[MAIN_DBI] = txn->mt_dbs[MAIN_DBI];
		mm->mm_last_pg = txn->mt_next_pgno - 1;
		mm->mm_txnid = txn->mt_txnid;
	}

	info->txnid = txn->mt_txnid;
	info->next_pgno = txn->mt_next_pgno;
	info->page_size = d->psize;
	info->reserved = 0;
	info->free_pages = d->nfree;
	*out = d;
	return MDB_SUCCESS;

fail:
	free(d->free);
	free(d->meta);
	free(d);
	return rc;
}

static void fo_frame(fo_dump *d, uint64_t pgno, uint32_t count, const char *src)
{
	fo_put64(d->header, pgno);
	fo_put32(d->header + 8, count);
	fo_put32(d->header + 12, 0);
	d->hdr_left = FO_FRAME_HEADER;
	d->src = src;
	d->src_left = (size_t)count * d->psize;
}

/* Finds the next frame to emit; 0 when the dump is complete. */
static int fo_next_frame(fo_dump *d)
{
	if (!d->meta_done) {
		d->meta_done = 1;
		fo_frame(d, 0, NUM_METAS, d->meta);
		return 1;
	}
	while (d->next < d->end) {
		pgno_t pg = d->next;
		MDB_page *mp;
		pgno_t npgs = 1;
		while (d->ifree < d->nfree && d->free[d->ifree] < pg)
			d->ifree++;
		if (d->ifree < d->nfree && d->free[d->ifree] == pg) {
			d->next++;
			continue;
		}
		mp = (MDB_page *)(d->env->me_map + (size_t)d->psize * pg);
		if (mp->mp_pgno != pg) {
			/* Reachable pages always carry their own number: anything else is damage. */
			d->error = MDB_CORRUPTED;
			return 0;
		}
		if (IS_OVERFLOW(mp))
			npgs = mp->mp_pages;
		if (npgs < 1 || pg + npgs > d->end) {
			d->error = MDB_CORRUPTED;
			return 0;
		}
		d->next = pg + npgs;
		if (mp->mp_txnid > d->since) {
			fo_frame(d, pg, (uint32_t)npgs, (const char *)mp);
			d->pages_emitted += npgs;
			return 1;
		}
	}
	return 0;
}

/* Fills buf with up to cap bytes of the stream. *written < cap only at the end of the dump. */
int fo_dump_read(fo_dump *d, unsigned char *buf, size_t cap, size_t *written)
{
	size_t n = 0;
	if (!d || !buf || !written)
		return EINVAL;
	while (n < cap) {
		if (d->hdr_left) {
			size_t take = d->hdr_left < cap - n ? d->hdr_left : cap - n;
			memcpy(buf + n, d->header + (FO_FRAME_HEADER - d->hdr_left), take);
			d->hdr_left -= take;
			n += take;
			continue;
		}
		if (d->src_left) {
			size_t take = d->src_left < cap - n ? d->src_left : cap - n;
			memcpy(buf + n, d->src, take);
			d->src += take;
			d->src_left -= take;
			n += take;
			continue;
		}
		if (d->error || !fo_next_frame(d))
			break;
	}
	*written = n;
	return d->error;
}

uint64_t fo_dump_pages(fo_dump *d)
{
	return d ? d->pages_emitted : 0;
}

void fo_dump_end(fo_dump *d)
{
	if (!d)
		return;
	free(d->free);
	free(d->meta);
	free(d);
}
