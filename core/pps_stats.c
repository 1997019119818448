#include "pps_stats.h"

#include <inttypes.h>
#include <math.h>

#define LD(x) atomic_load_explicit(&(x), memory_order_relaxed)

void pps_totals_sum(struct pps_totals *t, const struct pps_counters *c, size_t n)
{
	uint64_t nic = t->nic_drops;

	*t = (struct pps_totals){ 0 };
	t->nic_drops = nic;
	for (size_t i = 0; i < n; i++) {
		t->sent += LD(c[i].sent);
		t->tx_full += LD(c[i].tx_full);
		t->recv += LD(c[i].recv);
		t->valid += LD(c[i].valid);
		t->open += LD(c[i].open);
		t->closed += LD(c[i].closed);
		t->dup += LD(c[i].dup);
		t->invalid += LD(c[i].invalid);
		t->malformed += LD(c[i].malformed);
		t->not_ours += LD(c[i].not_ours);
		t->ring_full += LD(c[i].ring_full);
		t->rst += LD(c[i].rst);
		t->rst_lost += LD(c[i].rst_lost);
		t->unreach += LD(c[i].unreach);
		t->banners += LD(c[i].banners);
		t->acks += LD(c[i].acks);
	}
}

void pps_totals_collect(struct pps_totals *t, const struct pps_counters *tx, size_t n_tx,
			const struct pps_counters *rx)
{
	struct pps_totals r = { 0 };

	pps_totals_sum(t, tx, n_tx);
	pps_totals_sum(&r, rx, 1);
	t->sent += r.sent;
	t->tx_full += r.tx_full;
	t->recv = r.recv;
	t->valid = r.valid;
	t->open = r.open;
	t->closed = r.closed;
	t->dup = r.dup;
	t->invalid = r.invalid;
	t->malformed = r.malformed;
	t->not_ours = r.not_ours;
	t->ring_full = r.ring_full;
	t->unreach = r.unreach;
	t->banners = r.banners;
	t->acks = r.acks;
	t->rst += r.rst; /* RSTs may leave from a sender's queue or from the receive loop */
	t->rst_lost += r.rst_lost;
}

/* "240 Kp/s" style, as ZMap prints rates. */
static void fmt_rate(char *buf, size_t len, double r)
{
	if (!isfinite(r) || r < 0)
		r = 0;
	if (r >= 1e9)
		snprintf(buf, len, "%.2f Gp/s", r / 1e9);
	else if (r >= 1e6)
		snprintf(buf, len, "%.2f Mp/s", r / 1e6);
	else if (r >= 1e3)
		snprintf(buf, len, "%.2f Kp/s", r / 1e3);
	else
		snprintf(buf, len, "%.0f p/s", r);
}

static void fmt_left(char *buf, size_t len, double s)
{
	unsigned long long t = (!isfinite(s) || s < 0) ? 0 : (unsigned long long)(s + 0.5);

	if (t >= 3600)
		snprintf(buf, len, "%lluh%02llum", t / 3600, (t / 60) % 60);
	else if (t >= 60)
		snprintf(buf, len, "%llum%02llus", t / 60, t % 60);
	else
		snprintf(buf, len, "%llus", t);
}

static double safe_div(double a, double b)
{
	return b > 0 ? a / b : 0;
}

/* now - prev of a counter; 0 if it went backwards (a reset), never a wrapped huge value */
static double delta(uint64_t now, uint64_t prev)
{
	return now >= prev ? (double)(now - prev) : 0;
}

double pps_time_left_s(const struct pps_totals *now, const struct pps_status_ctx *ctx)
{
	double cool = ctx->cooldown_left_s > 0 ? ctx->cooldown_left_s : 0;
	uint64_t todo = ctx->total_probes > now->sent ? ctx->total_probes - now->sent : 0;

	if (ctx->sending_done)
		return cool;
	return safe_div((double)todo, safe_div((double)now->sent, ctx->elapsed_s)) + cool;
}

double pps_hit_rate(const struct pps_totals *t, uint64_t total_probes, unsigned probes)
{
	uint64_t targets = total_probes / (probes ? probes : 1), probed = t->sent;

	if (targets && probed > targets)
		probed = targets;
	return 100.0 * safe_div((double)t->open, (double)probed);
}

char *pps_status_format(char *buf, size_t len, const struct pps_totals *now,
			const struct pps_totals *prev, const struct pps_status_ctx *ctx)
{
	char sr[32], sa[32], rr[32], ra[32], dr[32], da[32], left[32];
	uint64_t unique = now->open + now->closed, unique_prev = prev->open + prev->closed;
	double pct = ctx->total_probes ? 100.0 * (double)now->sent / (double)ctx->total_probes
				       : 100;
	unsigned long long el = (unsigned long long)(ctx->elapsed_s < 0 ? 0 : ctx->elapsed_s);

	if (now->sent < prev->sent) /* never run backwards */
		pct = 100.0 * (double)prev->sent /
		      (double)(ctx->total_probes ? ctx->total_probes : 1);
	if (pct > 100)
		pct = 100;
	fmt_rate(sr, sizeof(sr), safe_div(delta(now->sent, prev->sent), ctx->dt_s));
	fmt_rate(sa, sizeof(sa),
		 safe_div((double)now->sent, ctx->sending_done && ctx->send_elapsed_s > 0
						     ? ctx->send_elapsed_s
						     : ctx->elapsed_s));
	fmt_rate(rr, sizeof(rr), safe_div(delta(unique, unique_prev), ctx->dt_s));
	fmt_rate(ra, sizeof(ra), safe_div((double)unique, ctx->elapsed_s));
	fmt_rate(dr, sizeof(dr), safe_div(delta(now->nic_drops, prev->nic_drops), ctx->dt_s));
	fmt_rate(da, sizeof(da), safe_div((double)now->nic_drops, ctx->elapsed_s));
	if (ctx->sending_done) {
		fmt_left(left, sizeof(left), pps_time_left_s(now, ctx));
		snprintf(buf, len,
			 "%2llu:%02llu %.0f%% (%s left); send: %" PRIu64
			 " done (%s avg); recv: %" PRIu64
			 " %s (%s avg); drops: %s (%s avg); hitrate: %.2f%%",
			 el / 60, el % 60, pct, left, now->sent, sa, unique, rr, ra, dr, da,
			 pps_hit_rate(now, ctx->total_probes, ctx->probes));
	} else {
		fmt_left(left, sizeof(left), pps_time_left_s(now, ctx));
		snprintf(buf, len,
			 "%2llu:%02llu %.0f%% (%s left); send: %" PRIu64
			 " %s (%s avg); recv: %" PRIu64
			 " %s (%s avg); drops: %s (%s avg); hitrate: %.2f%%",
			 el / 60, el % 60, pct, left, now->sent, sr, sa, unique, rr, ra, dr, da,
			 pps_hit_rate(now, ctx->total_probes, ctx->probes));
	}
	return buf;
}

void pps_send_phase_print(FILE *out, const char *prog, double seconds, uint64_t probes)
{
	fprintf(out, "%s:   send phase %.6f s, %" PRIu64 " probes, %.0f probes/s\n", prog, seconds,
		probes, seconds > 0 ? (double)probes / seconds : 0);
}

void pps_summary_print(FILE *out, const char *prog, const struct pps_totals *t, double elapsed_s,
		       uint64_t seed, int rst_off)
{
	fprintf(out,
		"%s: summary: seed %" PRIu64 ", %.2f s\n"
		"%s:   sent %" PRIu64 ", received %" PRIu64 ", valid %" PRIu64 "\n"
		"%s:   open %" PRIu64 ", closed %" PRIu64 ", invalid %" PRIu64
		", duplicates %" PRIu64 "\n"
		"%s:   malformed %" PRIu64 ", not ours %" PRIu64 ", NIC drops %" PRIu64
		", results lost (ring full) %" PRIu64 "\n",
		prog, seed, elapsed_s, prog, t->sent, t->recv, t->valid, prog, t->open, t->closed,
		t->invalid, t->dup, prog, t->malformed, t->not_ours, t->nic_drops, t->ring_full);
	if (rst_off)
		fprintf(out, "%s:   RSTs to close half-open connections: off (--no-rst)\n", prog);
	else
		fprintf(out,
			"%s:   RSTs sent to close half-open connections %" PRIu64
			", not sent %" PRIu64 "\n",
			prog, t->rst, t->rst_lost);
}
