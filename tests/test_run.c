/*
 * test_run.c - the run state both backends share (pps_run.h): sender start positions from the
 * slices, a resume position that does not fit, the last sender ending the sending phase, the
 * monitor callbacks (totals of senders + receiver + device drops, resume positions), main()'s
 * parse step and exit codes; and the two helpers it rests on: pps_totals_collect() and
 * pps_pacer_due_in().
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>

#include "pps_pacer.h"
#include "pps_run.h"
#include "unit_util.h"

static const uint8_t zero_mac[6];

static void parse(struct pps_config *cfg, char **argv)
{
	char *errtext;

	cr_assert_eq(ut_parse_args(cfg, PPS_BACKEND_PCAP, argv, &errtext), PPS_PARSE_OK, "%s",
		     errtext);
	free(errtext);
}

static uint64_t drops_42(void *dev)
{
	cr_assert_eq(dev, (void *)&drops_42);
	return 42;
}

Test(run, senders_start_on_their_slices_and_the_last_one_ends_sending)
{
	struct pps_config cfg;
	struct pps_scan s;
	static struct pps_run r;
	struct pps_monitor m = { 0 };
	struct pps_totals t = { 0 };
	uint64_t next[8];

	parse(&cfg, ARGV(DRY_NOBL, "-S", "198.19.0.2", "-p", "22,80", "--seed", "3", "-T", "3",
			 "--shards", "2", "--shard", "1", "198.18.0.0/24"));
	cr_assert_eq(pps_run_init(&r, &s, &cfg, zero_mac, zero_mac, 1, drops_42, (void *)&drops_42,
				  stderr),
		     0);
	cr_assert_eq(r.n_tx, 3);
	cr_assert_not_null(r.results);
	/* shard 1 of 2, thread k of 3: j = 1 + 2k + 6m */
	cr_assert_eq(r.tx_next[0], 1);
	cr_assert_eq(r.tx_next[1], 3);
	cr_assert_eq(r.tx_next[2], 5);

	pps_run_attach(&r, &m, &s);
	cr_assert_eq(m.results, r.results);
	cr_assert_eq(m.total_probes, 256); /* half of 512 */
	cr_assert_eq(m.tx_done(m.ctx), 0);
	pps_counter_add(&r.tx_c[0].sent, 10);
	pps_counter_add(&r.tx_c[2].sent, 5);
	pps_counter_add(&r.tx_c[1].tx_full, 2);
	pps_counter_add(&r.rx_c.recv, 7);
	pps_counter_add(&r.rx_c.open, 3);
	m.totals(m.ctx, &t);
	cr_assert_eq(t.sent, 15);
	cr_assert_eq(t.tx_full, 2);
	cr_assert_eq(t.recv, 7);
	cr_assert_eq(t.open, 3);
	cr_assert_eq(t.nic_drops, 42);

	cr_assert_eq(pps_run_sender_done(&r, 1, 99), 0);
	cr_assert_eq(pps_run_sender_done(&r, 0, 97), 0);
	cr_assert_eq(pps_run_done(&r), 0);
	cr_assert_eq(pps_run_sender_done(&r, 2, 101), 1, "the last sender ends the phase");
	cr_assert_eq(m.tx_done(m.ctx), 1);
	cr_assert_eq(m.resume_state(m.ctx, next, 8), 3);
	cr_assert_eq(next[0], 97);
	cr_assert_eq(next[1], 99);
	cr_assert_eq(next[2], 101);
	cr_assert_eq(m.resume_state(m.ctx, next, 2), 2, "never more than the caller's room");

	cr_assert_eq(pps_run_stopping(&r), 0);
	m.stop_tx(m.ctx);
	cr_assert_eq(pps_run_stopping(&r), 1);
	cr_assert_eq(pps_run_rx_stopping(&r), 0);
	pps_run_stop_rx(&r);
	cr_assert_eq(pps_run_rx_stopping(&r), 1);
	pps_run_fini(&r, &s);
	cr_assert_null(r.results);
	pps_config_free(&cfg);
}

Test(run, a_resume_position_off_the_slice_is_refused)
{
	struct pps_config cfg;
	struct pps_scan s;
	static struct pps_run r;
	char *msg = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&msg, &len);

	/* two senders: thread 0 sends the even indices, so 5 is not one of its positions */
	parse(&cfg, ARGV(DRY_NOBL, "-p", "80", "--seed", "3", "-T", "2", "--resume-next", "5,1",
			 "198.18.0.0/28"));
	cr_assert_eq(pps_run_init(&r, &s, &cfg, zero_mac, zero_mac, 1, NULL, NULL, err), -EINVAL);
	fclose(err);
	cr_assert_not_null(strstr(msg, "resume"), "message: %s", msg);
	cr_assert_eq(ut_count_lines(msg), 1);
	free(msg);
	pps_config_free(&cfg);
}

Test(run, parse_step_exit_codes)
{
	struct pps_config cfg;

	cr_assert_eq(pps_run_parse(&cfg, PPS_BACKEND_PCAP, 4, ARGV("-p", "0", "198.18.0.0/24")), 2);
	cr_assert_eq(pps_run_parse(&cfg, PPS_BACKEND_PCAP, 5, ARGV("-i", "eth0", "-p", "80")), 2,
		     "no targets");
	cr_assert_eq(
		pps_run_parse(&cfg, PPS_BACKEND_PCAP, 8,
			      ARGV("-i", "eth0", "-b", "/dev/null", "-p", "80", "198.18.0.0/24")),
		-1, "a scan to run");
	cr_assert_eq(cfg.targets->n_addresses, 256);
	pps_config_free(&cfg);
}

Test(run, totals_collect_sums_senders_and_takes_the_receiver)
{
	struct pps_counters tx[2] = { 0 }, rx = { 0 };
	struct pps_totals t = { .nic_drops = 9 };

	pps_counter_add(&tx[0].sent, 4);
	pps_counter_add(&tx[1].sent, 6);
	pps_counter_add(&tx[1].tx_full, 1);
	pps_counter_add(&rx.recv, 12);
	pps_counter_add(&rx.valid, 11);
	pps_counter_add(&rx.closed, 2);
	pps_counter_add(&rx.dup, 1);
	pps_counter_add(&rx.invalid, 3);
	pps_counter_add(&rx.ring_full, 1);
	/* RSTs leave from sender 0's queue (ppscan) or the receiver (ppscan-pcap): both count */
	pps_counter_add(&tx[0].rst, 5);
	pps_counter_add(&rx.rst, 2);
	pps_counter_add(&rx.rst_lost, 1);
	pps_totals_collect(&t, tx, 2, &rx);
	cr_assert_eq(t.rst, 7);
	cr_assert_eq(t.rst_lost, 1);
	cr_assert_eq(t.sent, 10);
	cr_assert_eq(t.tx_full, 1);
	cr_assert_eq(t.recv, 12);
	cr_assert_eq(t.valid, 11);
	cr_assert_eq(t.closed, 2);
	cr_assert_eq(t.dup, 1);
	cr_assert_eq(t.invalid, 3);
	cr_assert_eq(t.ring_full, 1);
	cr_assert_eq(t.nic_drops, 9, "device drops are the backend's to add");
}

Test(run, pacer_due_in_is_the_wait_for_a_whole_burst)
{
	struct pps_pacer p;

	/* 1000 probes/s on a 1 MHz clock: one probe every 1000 ticks, from tick 5000 */
	pps_pacer_init(&p, 1000000, 1000, 64, 5000);
	cr_assert_eq(pps_pacer_due_in(&p, 5000, 1), 0, "the first probe is due at once");
	cr_assert_eq(pps_pacer_due_in(&p, 5000, 4), 3000);
	cr_assert_eq(pps_pacer_due_in(&p, 6500, 4), 1500);
	cr_assert_eq(pps_pacer_due_in(&p, 9000, 4), 0);
	cr_assert_eq(pps_pacer_take(&p, 8000, 64), 4);
	cr_assert_eq(pps_pacer_due_in(&p, 8000, 2), 2000, "after taking 4: next at 9000");
	pps_pacer_init(&p, 1000000, 0, 64, 0);
	cr_assert_eq(pps_pacer_due_in(&p, 0, 64), 0, "unlimited rate: never wait");
}

/*
 * A scan of 16 probes whose last tick recorded everything, finished with @change (one more
 * response) or not, writing progress to @opt (-u or --status-json). Returns the lines of
 * that file after the finish, the last one in @last.
 */
static int status_lines_after_finish(const char *opt, int change, char *last, size_t len)
{
	char path[] = "/tmp/ppscan-status-XXXXXX";
	struct pps_config cfg;
	struct pps_scan s;
	static struct pps_run r;
	struct pps_monitor m = { 0 };
	int fd = mkstemp(path), rows = 0;
	char *text = NULL;
	size_t cap = 0;
	FILE *f;

	cr_assert_geq(fd, 0);
	close(fd);
	unlink(path);
	memset(&r, 0, sizeof(r));
	parse(&cfg, ARGV(DRY_NOBL, "-S", "198.19.0.2", "-p", "80", "--seed", "3", "-q", "-o",
			 "/dev/null", (char *)opt, path, "198.18.0.0/28"));
	cr_assert_eq(pps_run_init(&r, &s, &cfg, zero_mac, zero_mac, 1, NULL, NULL, stderr), 0);
	pps_run_attach(&r, &m, &s);
	m.cfg = &cfg;
	cr_assert_eq(pps_outputs_open(&m, &cfg, stderr), 0);
	pps_counter_add(&r.tx_c[0].sent, 16);
	m.t0 = pps_monotonic_s() - 2;
	m.totals(m.ctx, &m.last); /* as the loop leaves it after its last tick */
	m.last_status_t = m.t0 + 1;
	m.done_at = m.t0 + 1;
	if (change)
		pps_counter_add(&r.rx_c.recv, 1);
	pps_monitor_finish(&m);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (getline(&text, &cap, f) > 0) {
		snprintf(last, len, "%s", text);
		rows++;
	}
	fclose(f);
	free(text);
	unlink(path);
	pps_run_fini(&r, &s);
	pps_config_free(&cfg);
	return rows;
}

/* The -u file's final record: written when something changed since the last tick, never a
 * repeat of an unchanged one. */
Test(run, status_file_final_record_is_not_a_repeat)
{
	char last[1024];

	cr_assert_eq(status_lines_after_finish("-u", 0, last, sizeof(last)), 1,
		     "an unchanged last record was repeated"); /* the header */
	cr_assert_eq(status_lines_after_finish("-u", 1, last, sizeof(last)), 2,
		     "the final change was not recorded");
}

/* --status-json's last line says how the scan ended, also after a quiet last second (the
 * README promises it): the final record is written whether or not a counter changed. */
static void status_json_after_finish(int change)
{
	char last[1024] = "";
	int rows = status_lines_after_finish("--status-json", change, last, sizeof(last));

	cr_assert_eq(rows, 1, "change %d: %d lines", change, rows);
	cr_assert(strstr(last, "\"phase\":\"done\""), "change %d: last line %s", change, last);
	cr_assert(strstr(last, "\"sent\":16"), "%s", last);
}

Test(run, status_json_last_line_says_how_the_scan_ended)
{
	status_json_after_finish(0);
	status_json_after_finish(1);
}

/*
 * A resume file whose scan then ran to the end is marked complete, and --resume refuses it
 * (it would probe the rest again): one line naming the file, exit 2. A resumed run that is
 * interrupted again overwrites the file with the new state instead.
 */
Test(run, completed_resume_file_is_marked_and_refused)
{
	char path[] = "/tmp/ppscan-resume-XXXXXX", *errtext;
	struct pps_config cfg, again;
	struct pps_scan s;
	static struct pps_run r;
	struct pps_monitor m = { 0 };
	uint64_t next[1] = { 5 };
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	parse(&cfg,
	      ARGV("-i", "lo", "-b", "/dev/null", "-S", "198.19.0.2", "-G", "02:00:00:00:00:01",
		   "-p", "80", "--seed", "3", "-q", "-o", "/dev/null", "198.18.0.0/28"));
	cr_assert_eq(pps_config_write_resume(&cfg, path, NULL, next, 1), 0);
	pps_config_free(&cfg);

	/* the resumed run: everything sent, it ends done */
	parse(&cfg, ARGV("--resume", path));
	cr_assert(cfg.resuming);
	memset(&r, 0, sizeof(r));
	cr_assert_eq(pps_run_init(&r, &s, &cfg, zero_mac, zero_mac, 1, NULL, NULL, stderr), 0);
	pps_run_attach(&r, &m, &s);
	m.cfg = &cfg;
	cr_assert_eq(pps_outputs_open(&m, &cfg, stderr), 0);
	m.t0 = pps_monotonic_s();
	m.stop_reason = PPS_STOP_DONE;
	pps_monitor_finish(&m);
	pps_run_fini(&r, &s);
	pps_config_free(&cfg);

	cr_assert_eq(ut_parse_args(&again, PPS_BACKEND_PCAP, ARGV("--resume", path), &errtext),
		     PPS_PARSE_ERROR, "a completed resume file was taken");
	cr_assert_eq(ut_count_lines(errtext), 1, "%s", errtext);
	cr_assert(strstr(errtext, path) && strstr(errtext, "complete"), "%s", errtext);
	free(errtext);
	unlink(path);
}

/* --dryrun writes its probe list to -o, and refuses the outputs it would not write. */
Test(run, dryrun_writes_to_the_output_file_and_refuses_other_outputs)
{
	char path[] = "/tmp/ppscan-dry-XXXXXX";
	struct pps_config cfg;
	char *text = NULL;
	size_t cap = 0;
	int fd = mkstemp(path), lines = 0;
	FILE *f;

	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(pps_run_parse(&cfg, PPS_BACKEND_PCAP, 11,
				   ARGV(DRY_NOBL, "-p", "80", "--seed", "1", "-o", path,
					"198.18.0.0/30")),
		     0);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (getline(&text, &cap, f) > 0)
		lines++;
	fclose(f);
	free(text);
	unlink(path);
	cr_assert_eq(lines, 5, "header + 4 probes, got %d lines", lines);
	cr_assert_eq(
		pps_run_parse(&cfg, PPS_BACKEND_PCAP, 9,
			      ARGV(DRY_NOBL, "-p", "80", "-m", "/tmp/x.json", "198.18.0.0/30")),
		2);
	cr_assert_eq(pps_run_parse(&cfg, PPS_BACKEND_PCAP, 9,
				   ARGV(DRY_NOBL, "-p", "80", "--status-json", "/tmp/x.json",
					"198.18.0.0/30")),
		     2);
}

/* Reads the whole file at @path into @buf (at most @len - 1 bytes, NUL-terminated). */
static void slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert_not_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* --dryrun prints the -f columns it knows (the probe's: daddr, dport, saddr, sport, seqnum,
 * ipid, ttl), refuses others, and its start line names every -S address. */
Test(run, dryrun_takes_f_and_shows_the_sources, .init = cr_redirect_stderr)
{
	char path[] = "/tmp/ppscan-dryf-XXXXXX";
	struct pps_config cfg;
	char text[4096], *line2;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(pps_run_parse(&cfg, PPS_BACKEND_PCAP, 15,
				   ARGV(DRY_NOBL, "-p", "80", "--seed", "1", "-S",
					"198.19.0.2-198.19.0.3", "-f", "saddr,daddr,seqnum", "-o",
					path, "198.18.0.0/30")),
		     0);
	slurp(path, text, sizeof(text));
	cr_assert_eq(strncmp(text, "saddr,daddr,seqnum\n", 19), 0, "%s", text);
	line2 = strchr(text, '\n') + 1;
	cr_assert(!strncmp(line2, "198.19.0.2,198.18.0.", 20) ||
			  !strncmp(line2, "198.19.0.3,198.18.0.", 20),
		  "%s", line2);
	cr_assert_eq(pps_run_parse(&cfg, PPS_BACKEND_PCAP, 11,
				   ARGV(DRY_NOBL, "-p", "80", "-f", "classification", "-o", path,
					"198.18.0.0/30")),
		     2);
	unlink(path);
	fflush(stderr);
	{
		FILE *e = cr_get_redirected_stderr();
		char buf[4096];
		size_t n = fread(buf, 1, sizeof(buf) - 1, e);

		buf[n] = '\0';
		cr_assert(strstr(buf, "source 198.19.0.2-198.19.0.3 (2 addresses)"), "%s", buf);
		cr_assert(strstr(buf, "'classification'") && strstr(buf, "--dryrun"), "%s", buf);
	}
}
