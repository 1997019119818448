#include "pps_pacer.h"

void pps_pacer_init(struct pps_pacer *p, uint64_t hz, double rate_pps, unsigned burst, uint64_t now)
{
	double credit_probes;

	p->next = (double)now;
	if (rate_pps <= 0) {
		p->ticks_per_probe = 0;
		p->credit_ticks = 0;
		return;
	}
	p->ticks_per_probe = (double)hz / rate_pps;
	credit_probes = rate_pps * 0.05;
	if (credit_probes > (double)burst)
		credit_probes = (double)burst;
	/* below one probe of credit the pacer never sends two back to back */
	p->credit_ticks = credit_probes < 1.0 ? 0.0 : (credit_probes - 1.0) * p->ticks_per_probe;
}
