/*
 * id_registry.c - the static list of ppscan-id's protocol modules (id_module.h), one line
 * each. Order matters only for greetings: a greeting is offered to the modules in this
 * order, so a module with a more specific test comes before a more general one.
 */
#include <string.h>

#include "id_module.h"

/* clang-format off */
#define ID_MODULE_LIST(M) \
	/* i12 */ \
	M(tls) \
	M(ssh) \
	M(smtp) \
	M(ftp) \
	M(pop3) \
	M(imap) \
	M(http) \
	M(http2) \
	/* i12b */ \
	M(mysql) M(vnc) M(telnet) M(rsync) \
	M(rdp) M(smb) M(dns) M(postgresql) M(mqtt) M(ldap) M(redis) M(mongodb) M(memcached) \
	M(rtsp) M(sip) M(xmpp) \
	/* i12d */ \
	M(amqp) \
	M(kafka) \
	M(zookeeper) \
	M(cql) \
	M(nntp) \
	M(irc) \
	M(socks) \
	M(modbus) \
	M(ipp) \
	M(rmi) \
	M(x11)
/* clang-format on */

#define ID_DECLARE(x) extern const struct id_module id_mod_##x;
#define ID_ENTRY(x) &id_mod_##x,
ID_MODULE_LIST(ID_DECLARE)

static const struct id_module *const registry[] = { ID_MODULE_LIST(ID_ENTRY) };

const struct id_module *const *id_modules(size_t *n)
{
	*n = sizeof(registry) / sizeof(registry[0]);
	return registry;
}

const struct id_module *id_module_find(const char *name)
{
	for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
		if (!strcmp(registry[i]->name, name))
			return registry[i];
	return NULL;
}
