/*
 * reconcile_int.h: what reconcile.c shares with reconcile_pull.c (callbacks/
 * only).
 */
#ifndef VODHOOK_CALLBACKS_RECONCILE_INT_H
#define VODHOOK_CALLBACKS_RECONCILE_INT_H

#include "callbacks/background.h"
#include "common/thread.h"

/* Record ev (with evidence as its raw body, may be NULL) through ingest,
 * counting and logging the outcome. */
void cb__reconcile_submit(const struct cb_reconcile_opts *o,
			  struct vod_event *ev, const cJSON *evidence);
/* Whether a DescribeTaskDetail error means the platform no longer knows
 * the task (it keeps tasks three days). */
bool cb__reconcile_task_gone(const struct err *e);
/* One round over the Tencent URL pulls parked too long (reconcile_pull.c);
 * stops early when stop is requested. */
void cb__reconcile_tencent_pulls(const struct cb_reconcile_opts *o,
				 struct vh_stop *stop);

#endif
