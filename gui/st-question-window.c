/* st-question-window.c: the question window (no focus stealing, buttons inert for a
 * moment after a question is shown, no default button, a countdown to "deny once" that any
 * interaction stops, one queue with a count, moot questions removed at once). */
#include "st-question-window.h"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <stdbool.h>

#include "app-info.h"
#include "dump.h"
#include "rule-edit.h"
#include "visible.h"

/* A click or a key press meant for another window must not answer a question that just
 * appeared under it. */
#define INERT_MS  1000
#define SHOWN_MAX 300

struct _StQuestionWindow {
    GtkApplicationWindow parent_instance;
    StAgent *agent;
    guint countdown_s;
    GQueue questions; /* StQuestion *, the head is shown */
    /* the head's state */
    StQuestion *shown;
    char *rule;     /* the checked rule line, NULL when the text is not a rule */
    bool inert;     /* buttons ignore input */
    bool answering; /* an answer is on its way */
    guint inert_timer, countdown_timer;
    GtkGesture *press;   /* sees every click in the window before its widgets do */
    gint countdown_left; /* seconds; -1: stopped */

    GtkLabel *count_label, *summary_label, *call_label, *rule_error_label, *countdown_label;
    GtkGrid *details_grid;
    GtkLabel *detail_values[7];
    GtkImage *program_icon; /* the application's, beside the program's row */
    GtkComboBoxText *rule_combo, *errno_combo;
    GtkEntry *rule_entry;
    GtkWidget *allow_button, *deny_button, *always_allow_button, *always_deny_button, *kill_button,
        *detach_button, *review_button;
};

G_DEFINE_TYPE(StQuestionWindow, st_question_window, GTK_TYPE_APPLICATION_WINDOW)

/* What each button answers. */
static const struct button_answer {
    size_t button; /* offset of the widget in StQuestionWindow */
    const char *action, *scope;
    bool rule;      /* sends the rule edited (and needs it to be valid) */
    bool use_errno; /* sends the errno chosen */
} button_answers[] = {
    {G_STRUCT_OFFSET(StQuestionWindow, allow_button), "permit", "once", false, false},
    {G_STRUCT_OFFSET(StQuestionWindow, deny_button), "deny", "once", false, true},
    {G_STRUCT_OFFSET(StQuestionWindow, always_allow_button), "permit", "always", true, false},
    {G_STRUCT_OFFSET(StQuestionWindow, always_deny_button), "deny", "always", true, true},
    {G_STRUCT_OFFSET(StQuestionWindow, kill_button), "kill", "once", false, false},
    {G_STRUCT_OFFSET(StQuestionWindow, detach_button), "detach", "once", false, false},
};

static GtkWidget *button_of(StQuestionWindow *win, const struct button_answer *b)
{
    return G_STRUCT_MEMBER(GtkWidget *, win, b->button);
}

/* The errors a denial may give, most useful first. */
static const char *const errno_names[] = {"eperm",  "eacces",       "enoent", "erofs",
                                          "enosys", "econnrefused", "eagain"};
static const int errno_values[] = {EPERM, EACCES, ENOENT, EROFS, ENOSYS, ECONNREFUSED, EAGAIN};

/* The rows of the program's details. */
enum { ROW_PROGRAM, ROW_PID, ROW_USER, ROW_ARGV, ROW_CWD, ROW_PARENTS, ROW_POLICY, N_ROWS };
static const char *const row_names[N_ROWS] = {"program", "process", "user",  "argv",
                                              "cwd",     "parents", "policy"};
static const char *const row_titles[N_ROWS] = {
    N_("Program:"),   N_("Process:"),    N_("User:"),  N_("Command line:"),
    N_("Directory:"), N_("Started by:"), N_("Policy:")};

static void update_sensitivity(StQuestionWindow *win)
{
    for (size_t i = 0; i < G_N_ELEMENTS(button_answers); i++) {
        const struct button_answer *b = &button_answers[i];
        bool ok = win->shown && !win->inert && !win->answering && (!b->rule || win->rule);
        gtk_widget_set_sensitive(button_of(win, b), ok);
    }
    gtk_widget_set_sensitive(win->review_button, win->shown != NULL);
    dump_schedule(GTK_WIDGET(win));
}

static gboolean inert_over(gpointer data)
{
    StQuestionWindow *win = data;
    win->inert_timer = 0;
    win->inert = false;
    update_sensitivity(win);
    return G_SOURCE_REMOVE;
}

static void stop_countdown(StQuestionWindow *win)
{
    g_clear_handle_id(&win->countdown_timer, g_source_remove);
    if (win->countdown_left >= 0 && win->shown)
        gtk_label_set_text(win->countdown_label,
                           _("Countdown stopped: the program waits for your answer."));
    win->countdown_left = -1;
}

static void answer_shown(StQuestionWindow *win, const char *action, const char *scope,
                         const char *filter, const char *errno_name);

static void show_countdown(StQuestionWindow *win)
{
    g_autofree char *text = g_strdup_printf(
        g_dngettext(GETTEXT_PACKAGE, "Denied once (not stored) in %d second unless you answer.",
                    "Denied once (not stored) in %d seconds unless you answer.",
                    (unsigned long)win->countdown_left),
        win->countdown_left);
    gtk_label_set_text(win->countdown_label, text);
}

static gboolean countdown_tick(gpointer data)
{
    StQuestionWindow *win = data;
    if (--win->countdown_left > 0) {
        show_countdown(win);
        return G_SOURCE_CONTINUE;
    }
    win->countdown_timer = 0;
    win->countdown_left = -1;
    answer_shown(win, "deny", "once", NULL, NULL);
    return G_SOURCE_REMOVE;
}

/* Seconds left before the default: ours, or the daemon's deadline if it comes first. */
static gint countdown_start(StQuestionWindow *win, StQuestion *q)
{
    gint left = win->countdown_s ? (gint)win->countdown_s : G_MAXINT;
    if (q->deadline_us > 0) {
        gint64 until = (q->deadline_us - g_get_real_time()) / G_USEC_PER_SEC;
        left = (gint)MIN((gint64)left, MAX(until, 1));
    }
    return left == G_MAXINT ? -1 : left;
}

static guint same_process(StQuestionWindow *win, StQuestion *q)
{
    guint n = 0;
    for (GList *l = win->questions.head->next; l; l = l->next)
        n += ST_QUESTION(l->data)->pid == q->pid;
    return n;
}

static void set_detail(StQuestionWindow *win, int row, const char *text)
{
    gtk_label_set_text(win->detail_values[row], text);
}

static void fill_details(StQuestionWindow *win, StQuestion *q)
{
    g_autofree char *program = visible_text(q->program, SHOWN_MAX);
    g_autofree char *pid = q->tid && q->tid != q->pid
                               ? g_strdup_printf(_("%d (thread %d)"), q->pid, q->tid)
                               : g_strdup_printf("%d", q->pid);
    g_autofree char *user_name = visible_text(q->user, 64);
    g_autofree char *user = g_strdup_printf("%s (%u)", user_name, q->uid);
    g_autofree char *argv = visible_text(q->argv, SHOWN_MAX);
    g_autofree char *cwd = visible_text(q->cwd, SHOWN_MAX);
    GString *parents = g_string_new(NULL);
    for (guint i = 0; i < q->parents->len && i < 8; i++) {
        g_autofree char *p = visible_text(q->parents->pdata[i], 120);
        g_string_append_printf(parents, "%s%s", i ? "\n" : "", p);
    }
    g_autofree char *policy_path = visible_text(q->policy, SHOWN_MAX);
    g_autofree char *policy = *q->policy
                                  ? g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%s (%u rule)",
                                                                "%s (%u rules)", q->rules),
                                                    policy_path, q->rules)
                                  : g_strdup(_("none yet"));
    /* The application's name and icon when a desktop file runs this program. */
    GAppInfo *app = app_info_for_program(q->program);
    g_autofree char *app_name = app ? visible_text(g_app_info_get_display_name(app), 80) : NULL;
    g_autofree char *named = app_name ? g_strdup_printf(_("%s (%s)"), app_name, program) : NULL;
    set_detail(win, ROW_PROGRAM, named ? named : program);
    GIcon *icon = app ? g_app_info_get_icon(app) : NULL;
    if (icon)
        gtk_image_set_from_gicon(win->program_icon, icon, GTK_ICON_SIZE_DND);
    gtk_widget_set_visible(GTK_WIDGET(win->program_icon), icon != NULL);
    set_detail(win, ROW_PID, pid);
    set_detail(win, ROW_USER, user);
    set_detail(win, ROW_ARGV, argv);
    set_detail(win, ROW_CWD, cwd);
    set_detail(win, ROW_PARENTS, parents->len ? parents->str : "-");
    set_detail(win, ROW_POLICY, policy);
    g_string_free(parents, TRUE);
}

static void fill_rules(StQuestionWindow *win, StQuestion *q)
{
    gtk_combo_box_text_remove_all(win->rule_combo);
    int first_permit = -1, n = 0;
    for (char **s = q->suggestions; s && *s; s++, n++) {
        gtk_combo_box_text_append_text(win->rule_combo, *s);
        if (first_permit < 0 && rule_edit_permits(*s))
            first_permit = n;
    }
    /* The first rule that permits: "always" most often means "always allow". */
    if (n)
        gtk_combo_box_set_active(GTK_COMBO_BOX(win->rule_combo), MAX(first_permit, 0));
    else
        gtk_entry_set_text(win->rule_entry, "");
}

/* "Question 1 of 3, and 2 more from this process (asked 4 more times)". */
static void update_count(StQuestionWindow *win)
{
    StQuestion *q = win->shown;
    if (!q)
        return;
    guint total = win->questions.length, more = same_process(win, q);
    g_autofree char *count = g_strdup_printf(
        g_dngettext(GETTEXT_PACKAGE, "Question 1 of %u", "Question 1 of %u", total), total);
    g_autofree char *grouped =
        more ? g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%s, and %u more from this process",
                                           "%s, and %u more from this process", more),
                               count, more)
             : g_strdup(count);
    g_autofree char *repeats =
        q->repeats ? g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%s (asked %u more time)",
                                                 "%s (asked %u more times)", q->repeats),
                                     grouped, q->repeats)
                   : g_strdup(grouped);
    gtk_label_set_text(win->count_label, repeats);
    dump_schedule(GTK_WIDGET(win));
}

/* Shows the head of the queue, or hides the window when nothing waits. */
static void show_head(StQuestionWindow *win)
{
    StQuestion *q = g_queue_peek_head(&win->questions);
    g_clear_handle_id(&win->inert_timer, g_source_remove);
    g_clear_handle_id(&win->countdown_timer, g_source_remove);
    g_clear_object(&win->shown);
    win->answering = false;
    if (!q) {
        gtk_widget_hide(GTK_WIDGET(win));
        update_sensitivity(win);
        return;
    }
    win->shown = g_object_ref(q);
    win->inert = true;
    win->inert_timer = g_timeout_add(INERT_MS, inert_over, win);

    update_count(win);
    g_autofree char *summary = st_question_describe(q);
    gtk_label_set_text(win->summary_label, summary);
    g_autofree char *call = st_question_policy_text(q);
    gtk_label_set_text(win->call_label, call);
    fill_details(win, q);
    fill_rules(win, q);

    win->countdown_left = countdown_start(win, q);
    if (win->countdown_left > 0) {
        show_countdown(win);
        win->countdown_timer = g_timeout_add_seconds(1, countdown_tick, win);
    } else {
        gtk_label_set_text(win->countdown_label, "");
    }
    /* Focus inside the window goes to the rule, where typing answers nothing (a focused
     * selectable label would select its text, a focused button would take Space). */
    gtk_window_set_focus(GTK_WINDOW(win), GTK_WIDGET(win->rule_entry));
    if (!gtk_widget_get_visible(GTK_WIDGET(win)))
        gtk_widget_show(GTK_WIDGET(win)); /* not present(): that takes the focus */
    update_sensitivity(win);
}

/* An answer on its way: the window, and the request it answers. */
struct answering {
    StQuestionWindow *win;
    char *id;
};

static void on_answered(GObject *source, GAsyncResult *result, gpointer data)
{
    struct answering *a = data;
    g_autoptr(StQuestionWindow) win = a->win;
    g_autofree char *id = a->id;
    g_free(a);
    g_autoptr(GError) error = NULL;
    bool done = st_agent_answer_finish(ST_AGENT(source), result, &error);
    /* The question may have been withdrawn meanwhile, and another shown. */
    if (!win->shown || !g_str_equal(win->shown->id, id) || !win->answering)
        return;
    if (done || st_agent_error_is_moot(error)) {
        g_object_unref(g_queue_pop_head(&win->questions));
        show_head(win);
        return;
    }
    /* Refused (a rule that does not match the call): the question stands. */
    g_dbus_error_strip_remote_error(error);
    g_autofree char *why = visible_text(error->message, SHOWN_MAX);
    gtk_label_set_text(win->rule_error_label, why);
    win->answering = false;
    update_sensitivity(win);
}

static void answer_shown(StQuestionWindow *win, const char *action, const char *scope,
                         const char *filter, const char *errno_name)
{
    if (!win->shown || win->answering)
        return;
    stop_countdown(win);
    win->answering = true;
    update_sensitivity(win);
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
    g_variant_builder_add(&b, "{sv}", "action", g_variant_new_string(action));
    g_variant_builder_add(&b, "{sv}", "scope", g_variant_new_string(scope));
    if (filter)
        g_variant_builder_add(&b, "{sv}", "filter", g_variant_new_string(filter));
    if (errno_name)
        g_variant_builder_add(&b, "{sv}", "errno", g_variant_new_string(errno_name));
    struct answering *a = g_new(struct answering, 1);
    *a = (struct answering){g_object_ref(win), g_strdup(win->shown->id)};
    st_agent_answer(win->agent, win->shown->id, g_variant_builder_end(&b), on_answered, a);
}

static void on_answer_clicked(GtkButton *button, StQuestionWindow *win)
{
    const struct button_answer *b = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(button_answers); i++)
        if (button_of(win, &button_answers[i]) == GTK_WIDGET(button))
            b = &button_answers[i];
    if (!b || win->inert || !win->shown)
        return;
    const char *errno_name =
        b->use_errno ? gtk_combo_box_get_active_id(GTK_COMBO_BOX(win->errno_combo)) : NULL;
    if (errno_name && g_str_equal(errno_name, "eperm"))
        errno_name = NULL; /* the daemon's plain deny */
    g_autofree char *filter = NULL;
    if (b->rule) {
        if (!win->rule)
            return;
        filter = rule_edit_with_action(win->rule, g_str_equal(b->action, "permit"), errno_name);
        if (!filter)
            return;
    }
    answer_shown(win, b->action, b->scope, filter, errno_name);
}

/* The policy's rules for the call, in a window of their own (they answer nothing). */
static void on_rules(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(StQuestionWindow) win = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = st_agent_session_call_finish(ST_AGENT(source), result, &error);
    GString *text = g_string_new(NULL);
    if (!reply) {
        g_dbus_error_strip_remote_error(error);
        g_autofree char *why = visible_text(error->message, SHOWN_MAX);
        g_string_append(text, why);
    } else {
        g_autofree const char **rules = NULL;
        g_variant_get(reply, "(^a&s)", &rules);
        /* The daemon's printer wrote them: strings are quoted and escaped already. */
        for (size_t i = 0; rules && rules[i] && i < 200; i++)
            g_string_append_printf(text, "%s\n", rules[i]);
        if (!rules || !rules[0])
            g_string_append(text, _("No rule for this call yet."));
    }
    GtkWidget *dialog =
        gtk_message_dialog_new(GTK_WINDOW(win), GTK_DIALOG_DESTROY_WITH_PARENT, GTK_MESSAGE_INFO,
                               GTK_BUTTONS_CLOSE, "%s", _("The program's rules for this call"));
    gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(dialog), "%s", text->str);
    g_string_free(text, TRUE);
    g_signal_connect(dialog, "response", G_CALLBACK(gtk_widget_destroy), NULL);
    dump_attach(dialog, NULL);
    gtk_widget_show(dialog);
}

static void on_review_clicked(GtkButton *button, StQuestionWindow *win)
{
    if (!win->shown)
        return;
    st_agent_session_call(win->agent, win->shown->session, "Rules",
                          g_variant_new("(s)", win->shown->rule_name), on_rules, g_object_ref(win));
}

static void check_rule(StQuestionWindow *win)
{
    g_clear_pointer(&win->rule, g_free);
    if (!win->shown)
        return;
    g_autofree char *error = NULL;
    win->rule = rule_edit_check(win->shown->rule_name, gtk_entry_get_text(win->rule_entry), &error);
    g_autofree char *shown = error ? visible_text(error, SHOWN_MAX) : NULL;
    gtk_label_set_text(win->rule_error_label, shown ? shown : "");
    update_sensitivity(win);
}

static void on_rule_changed(GtkComboBox *combo, StQuestionWindow *win)
{
    check_rule(win);
}

static void on_errno_changed(GtkComboBox *combo, StQuestionWindow *win)
{
    stop_countdown(win);
}

/* Any key in the window (a toplevel sees keys first): the person is deciding, the countdown
 * stops. Clicks: on_press. */
static gboolean on_interaction(GtkWidget *widget, GdkEvent *event, StQuestionWindow *win)
{
    stop_countdown(win);
    return GDK_EVENT_PROPAGATE;
}

static void on_press(GtkGestureMultiPress *gesture, int n, double x, double y,
                     StQuestionWindow *win)
{
    stop_countdown(win);
}

static void st_question_window_dispose(GObject *object)
{
    StQuestionWindow *win = ST_QUESTION_WINDOW(object);
    g_clear_object(&win->press);
    g_clear_handle_id(&win->inert_timer, g_source_remove);
    g_clear_handle_id(&win->countdown_timer, g_source_remove);
    g_queue_clear_full(&win->questions, g_object_unref);
    g_clear_object(&win->shown);
    g_clear_object(&win->agent);
    g_clear_pointer(&win->rule, g_free);
    G_OBJECT_CLASS(st_question_window_parent_class)->dispose(object);
}

static void st_question_window_class_init(StQuestionWindowClass *klass)
{
    GtkWidgetClass *w = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = st_question_window_dispose;
    gtk_widget_class_set_template_from_resource(w, "/org/systrace/applet/st-question-window.ui");
#define CHILD(name) gtk_widget_class_bind_template_child(w, StQuestionWindow, name)
    CHILD(count_label);
    CHILD(summary_label);
    CHILD(call_label);
    CHILD(rule_error_label);
    CHILD(countdown_label);
    CHILD(details_grid);
    CHILD(rule_combo);
    CHILD(rule_entry);
    CHILD(errno_combo);
    CHILD(allow_button);
    CHILD(deny_button);
    CHILD(always_allow_button);
    CHILD(always_deny_button);
    CHILD(kill_button);
    CHILD(detach_button);
    CHILD(review_button);
#undef CHILD
    gtk_widget_class_bind_template_callback(w, on_answer_clicked);
    gtk_widget_class_bind_template_callback(w, on_rule_changed);
    gtk_widget_class_bind_template_callback(w, on_review_clicked);
    gtk_widget_class_bind_template_callback(w, on_errno_changed);
    gtk_widget_class_bind_template_callback(w, on_interaction);
    gtk_widget_class_bind_template_callback(w, gtk_widget_hide_on_delete);
}

static void st_question_window_init(StQuestionWindow *win)
{
    gtk_widget_init_template(GTK_WIDGET(win));
    g_queue_init(&win->questions);
    win->countdown_left = -1;
    for (int row = 0; row < N_ROWS; row++) {
        GtkWidget *title = gtk_label_new(_(row_titles[row]));
        gtk_label_set_xalign(GTK_LABEL(title), 0);
        gtk_widget_set_valign(title, GTK_ALIGN_START);
        GtkWidget *value = gtk_label_new(NULL);
        gtk_label_set_xalign(GTK_LABEL(value), 0);
        gtk_widget_set_valign(value, GTK_ALIGN_START);
        gtk_label_set_selectable(GTK_LABEL(value), TRUE);
        gtk_label_set_line_wrap(GTK_LABEL(value), TRUE);
        gtk_label_set_line_wrap_mode(GTK_LABEL(value), PANGO_WRAP_CHAR);
        gtk_label_set_max_width_chars(GTK_LABEL(value), 70);
        gtk_widget_set_hexpand(value, TRUE);
        gtk_grid_attach(win->details_grid, title, 0, row, 1, 1);
        gtk_grid_attach(win->details_grid, value, 1, row, 1, 1);
        if (row == ROW_PROGRAM) {
            win->program_icon = GTK_IMAGE(gtk_image_new());
            gtk_widget_set_valign(GTK_WIDGET(win->program_icon), GTK_ALIGN_START);
            gtk_grid_attach(win->details_grid, GTK_WIDGET(win->program_icon), 2, row, 1, 1);
        }
        gtk_widget_show(title);
        gtk_widget_show(value);
        g_autofree char *name = g_strconcat(row_names[row], "_label", NULL);
        gtk_buildable_set_name(GTK_BUILDABLE(value), name);
        win->detail_values[row] = GTK_LABEL(value);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(errno_names); i++) {
        g_autofree char *upper = g_ascii_strup(errno_names[i], -1);
        g_autofree char *label = g_strdup_printf("%s (%s)", upper, g_strerror(errno_values[i]));
        gtk_combo_box_text_append(win->errno_combo, errno_names[i], label);
    }
    gtk_combo_box_set_active(GTK_COMBO_BOX(win->errno_combo), 0);
    gtk_window_set_keep_above(GTK_WINDOW(win), TRUE);
    /* A button takes its click and stops it there: the capture phase sees it first. */
    win->press = gtk_gesture_multi_press_new(GTK_WIDGET(win));
    gtk_event_controller_set_propagation_phase(GTK_EVENT_CONTROLLER(win->press), GTK_PHASE_CAPTURE);
    gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(win->press), 0);
    g_signal_connect(win->press, "pressed", G_CALLBACK(on_press), win);
    dump_attach(GTK_WIDGET(win), NULL);
}

StQuestionWindow *st_question_window_new(GtkApplication *app, StAgent *agent, guint countdown_s)
{
    StQuestionWindow *win = g_object_new(ST_TYPE_QUESTION_WINDOW, "application", app, NULL);
    win->agent = g_object_ref(agent);
    win->countdown_s = countdown_s;
    return win;
}

void st_question_window_add(StQuestionWindow *win, StQuestion *q)
{
    g_queue_push_tail(&win->questions, g_object_ref(q));
    if (!win->shown)
        show_head(win);
    else
        update_count(win);
}

void st_question_window_remove(StQuestionWindow *win, const char *request_id)
{
    for (GList *l = win->questions.head; l; l = l->next) {
        StQuestion *q = l->data;
        if (!g_str_equal(q->id, request_id))
            continue;
        bool shown = q == win->shown;
        g_queue_delete_link(&win->questions, l);
        g_object_unref(q);
        if (shown)
            show_head(win);
        else
            update_count(win);
        return;
    }
}

guint st_question_window_count(StQuestionWindow *win)
{
    return win->questions.length;
}
