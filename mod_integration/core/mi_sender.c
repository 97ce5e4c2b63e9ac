/* mi_sender.c: many webhook deliveries in flight on one libcurl multi
 * handle. Each attempt has a pool of its own, from its start until the
 * caller has taken its outcome. */
#include <string.h>
#include <apr_hash.h>
#include "mi_sender.h"

typedef struct transfer_t transfer_t;
struct transfer_t {
    apr_pool_t *pool;
    mi_delivery_t d;
    mi_attempt_t attempt;
    mi_send_result_t result;
    apr_time_t done_at;
    int *hook_busy;
    transfer_t *prev, *next;    /* in flight, or done and not taken */
};

typedef struct {
    transfer_t *head, *tail;
} list_t;

struct mi_sender_t {
    apr_pool_t *pool;
    const mi_delivery_conf_t *conf;
    CURLM *multi;
    int concurrency, per_webhook, in_flight, ndone;
    apr_hash_t *busy;           /* webhook id -> int in flight */
    list_t flying, done;
};

static void list_add(list_t *l, transfer_t *t)
{
    t->prev = l->tail;
    t->next = NULL;
    if (l->tail) {
        l->tail->next = t;
    }
    else {
        l->head = t;
    }
    l->tail = t;
}

static void list_remove(list_t *l, transfer_t *t)
{
    if (t->prev) {
        t->prev->next = t->next;
    }
    else {
        l->head = t->next;
    }
    if (t->next) {
        t->next->prev = t->prev;
    }
    else {
        l->tail = t->prev;
    }
    t->prev = t->next = NULL;
}

/* What a record of the attempt needs of its delivery, in pool. */
static void copy_delivery(apr_pool_t *pool, mi_delivery_t *to,
                          const mi_delivery_t *from)
{
    memset(to, 0, sizeof(*to));
    to->id = apr_pstrdup(pool, from->id);
    to->webhook_id = apr_pstrdup(pool, from->webhook_id);
    to->event = apr_pstrdup(pool, from->event);
    to->event_time = from->event_time;
    to->attempts = from->attempts;
}

/* Out of the multi handle and of the count of its webhook. */
static void land(mi_sender_t *s, transfer_t *t)
{
    if (t->attempt.easy) {
        curl_multi_remove_handle(s->multi, t->attempt.easy);
        /* The connection stays in the multi handle's cache. */
        mi_delivery_release(&t->attempt);
    }
    list_remove(&s->flying, t);
    s->in_flight--;
    (*t->hook_busy)--;
}

static apr_status_t sender_cleanup(void *data)
{
    mi_sender_t *s = data;

    while (s->flying.head) {
        land(s, s->flying.head);
    }
    curl_multi_cleanup(s->multi);
    return APR_SUCCESS;
}

mi_sender_t *mi_sender_create(apr_pool_t *pool,
                              const mi_delivery_conf_t *conf,
                              int concurrency, int per_webhook)
{
    mi_sender_t *s = apr_pcalloc(pool, sizeof(*s));

    if (!(s->multi = curl_multi_init())) {
        return NULL;
    }
    s->pool = pool;
    s->conf = conf;
    s->concurrency = concurrency;
    s->per_webhook = per_webhook;
    s->busy = apr_hash_make(pool);
    curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      (long)concurrency);
    curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, (long)concurrency);
    /* Before the transfers' pools (subpools of pool) go. */
    apr_pool_pre_cleanup_register(pool, s, sender_cleanup);
    return s;
}

int mi_sender_room(const mi_sender_t *s)
{
    return s->concurrency - s->in_flight;
}

int mi_sender_in_flight(const mi_sender_t *s)
{
    return s->in_flight;
}

static int *busy_of(mi_sender_t *s, const char *webhook_id)
{
    int *n = apr_hash_get(s->busy, webhook_id, APR_HASH_KEY_STRING);

    if (!n) {
        n = apr_pcalloc(s->pool, sizeof(*n));
        apr_hash_set(s->busy, apr_pstrdup(s->pool, webhook_id),
                     APR_HASH_KEY_STRING, n);
    }
    return n;
}

int mi_sender_add(mi_sender_t *s, const mi_delivery_t *d)
{
    int *busy = busy_of(s, d->webhook_id);
    const char *error;
    transfer_t *t;
    apr_pool_t *tp;

    if (s->in_flight >= s->concurrency || *busy >= s->per_webhook
        || apr_pool_create(&tp, s->pool) != APR_SUCCESS) {
        return 0;
    }
    t = apr_pcalloc(tp, sizeof(*t));
    t->pool = tp;
    t->hook_busy = busy;
    t->d = *d;
    t->d.id = apr_pstrdup(tp, d->id);
    t->d.webhook_id = apr_pstrdup(tp, d->webhook_id);
    t->d.url = apr_pstrdup(tp, d->url);
    t->d.secret = apr_pstrdup(tp, d->secret);
    t->d.event = apr_pstrdup(tp, d->event);
    t->d.payload = apr_pstrdup(tp, d->payload);
    list_add(&s->flying, t);
    s->in_flight++;
    (*busy)++;
    error = mi_delivery_prepare(tp, s->conf, &t->d, &t->attempt);
    if (!error) {
        curl_easy_setopt(t->attempt.easy, CURLOPT_PRIVATE, t);
        if (curl_multi_add_handle(s->multi, t->attempt.easy) != CURLM_OK) {
            error = "cannot start an HTTP client";
        }
    }
    if (error) {
        land(s, t);
        t->result.error = error;
        t->done_at = apr_time_now();
        list_add(&s->done, t);
        s->ndone++;
    }
    return 1;
}

/* Moves the finished transfers to the done list: how many. */
static int collect(mi_sender_t *s)
{
    CURLMsg *m;
    int left, n = 0;

    while ((m = curl_multi_info_read(s->multi, &left))) {
        transfer_t *t = NULL;

        if (m->msg != CURLMSG_DONE) {
            continue;
        }
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        mi_delivery_outcome(t->pool, &t->attempt, m->data.result,
                            &t->result);
        land(s, t);
        t->done_at = apr_time_now();
        list_add(&s->done, t);
        s->ndone++;
        n++;
    }
    return n;
}

void mi_sender_run(mi_sender_t *s, apr_interval_time_t wait)
{
    int running;

    curl_multi_perform(s->multi, &running);
    if (collect(s) > 0 || s->done.head) {
        return;
    }
    curl_multi_poll(s->multi, NULL, 0, (int)apr_time_as_msec(wait), NULL);
    curl_multi_perform(s->multi, &running);
    collect(s);
}

apr_array_header_t *mi_sender_done(mi_sender_t *s, apr_pool_t *pool)
{
    apr_array_header_t *out = apr_array_make(pool, 16, sizeof(mi_sent_t));

    while (s->done.head) {
        transfer_t *t = s->done.head;
        mi_sent_t *o = apr_array_push(out);

        copy_delivery(pool, &o->delivery, &t->d);
        o->result = t->result;
        if (t->result.error) {
            o->result.error = apr_pstrdup(pool, t->result.error);
        }
        list_remove(&s->done, t);
        apr_pool_destroy(t->pool);
    }
    s->ndone = 0;
    return out;
}

int mi_sender_done_count(const mi_sender_t *s)
{
    return s->ndone;
}

apr_interval_time_t mi_sender_done_age(const mi_sender_t *s)
{
    return s->done.head ? apr_time_now() - s->done.head->done_at : 0;
}

apr_array_header_t *mi_sender_cancel(mi_sender_t *s, apr_pool_t *pool)
{
    apr_array_header_t *out = apr_array_make(pool, s->in_flight + 1,
                                             sizeof(mi_delivery_t));

    while (s->flying.head) {
        transfer_t *t = s->flying.head;

        land(s, t);
        copy_delivery(pool, apr_array_push(out), &t->d);
        apr_pool_destroy(t->pool);
    }
    return out;
}
