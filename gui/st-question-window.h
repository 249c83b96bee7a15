/* st-question-window.h: the one window that shows the questions waiting, first come first shown,
 * and sends the person's answer for the one shown. */
#pragma once

#include <gtk/gtk.h>

#include "st-agent.h"
#include "st-question.h"

G_BEGIN_DECLS

#define ST_TYPE_QUESTION_WINDOW (st_question_window_get_type())
G_DECLARE_FINAL_TYPE(StQuestionWindow, st_question_window, ST, QUESTION_WINDOW,
                     GtkApplicationWindow)

/* COUNTDOWN_S: seconds before the default answer (deny, this call only); 0: none but the
 * daemon's deadline. */
StQuestionWindow *st_question_window_new(GtkApplication *app, StAgent *agent, guint countdown_s);

/* Queues Q; the window appears, without taking the keyboard focus, if it was hidden. */
void st_question_window_add(StQuestionWindow *win, StQuestion *q);
/* Removes the question REQUEST_ID (moot: answered elsewhere, timed out, its process gone). */
void st_question_window_remove(StQuestionWindow *win, const char *request_id);
/* The number of questions waiting. */
guint st_question_window_count(StQuestionWindow *win);

G_END_DECLS
