/* st-agent.h: the applet's org.systrace.Agent1 on the system bus. It registers with systraced
 * for the user's own sessions whenever the daemon (re)appears, takes its questions (only from
 * the daemon's bus name) and sends the person's answers with Daemon1.Answer. */
#pragma once

#include <gio/gio.h>

#include "st-question.h"

G_BEGIN_DECLS

#define ST_TYPE_AGENT (st_agent_get_type())
G_DECLARE_FINAL_TYPE(StAgent, st_agent, ST, AGENT, GObject)

/* Signals: "ask" (StQuestion *), "cancel" (const char *request_id, const char *reason),
 * "sessions-changed" (a session was added or removed, or the daemon (re)appeared),
 * "decision" (const char *session, const char *kind, const char *line: the daemon's Decision
 * event, its strings as the daemon wrote them). */
StAgent *st_agent_new(GDBusConnection *bus, GError **error);

/* Sends ANSWER (a floating or owned a{sv}: "action", "scope", "filter", "errno") for REQUEST_ID;
 * CALLBACK gets the reply, read with st_agent_answer_finish. */
void st_agent_answer(StAgent *agent, const char *request_id, GVariant *answer,
                     GAsyncReadyCallback callback, gpointer user_data);
gboolean st_agent_answer_finish(StAgent *agent, GAsyncResult *result, GError **error);

/* Calls METHOD of org.systrace.Session1 on SESSION (an object path) with PARAMS (floating or
 * NULL); CALLBACK reads the reply with st_agent_session_call_finish (caller unrefs it). */
void st_agent_session_call(StAgent *agent, const char *session, const char *method,
                           GVariant *params, GAsyncReadyCallback callback, gpointer user_data);
GVariant *st_agent_session_call_finish(StAgent *agent, GAsyncResult *result, GError **error);

/* Whether the "decision" signal is wanted (the daemon is asked for the events only then). */
void st_agent_set_monitoring(StAgent *agent, gboolean on);

/* Daemon1.ListSessions; the reply's a(oiusss) is read with st_agent_session_call_finish. */
void st_agent_list_sessions(StAgent *agent, GAsyncReadyCallback callback, gpointer user_data);

/* Whether ERROR says the question was moot (answered elsewhere, timed out, gone). */
gboolean st_agent_error_is_moot(const GError *error);

G_END_DECLS
