/** @odoo-module **/
import { registry } from "@web/core/registry";

/**
 * An accountant of the Amazon Refunds User group presses Import now on a seller account (the
 * test opens it): the button returns at once, a notification says the import started, and the
 * account shows the import waiting to start.
 */
registry.category("web_tour.tours").add("account_amazon_refund_import_now", {
    steps: () => [
        {
            content: "Press Import now",
            trigger: ".o_form_view .o_form_statusbar button[name='action_sync']",
            run: "click",
        },
        {
            content: "A notification says the import started",
            trigger: ".o_notification:contains('The import has started')",
        },
        {
            content: "The account shows its import in progress, waiting to start",
            trigger: ".o_form_view .o_amazon_sp_last_run:contains('Waiting to start')",
        },
    ],
});

/**
 * Once the import ran, the account says what it did, and its import run too.
 */
registry.category("web_tour.tours").add("account_amazon_refund_import_done", {
    steps: () => [
        {
            content: "The account says what the last import did",
            trigger: ".o_form_view .o_amazon_sp_last_run_done:contains('posted')",
        },
        {
            content: "Open its import runs",
            trigger: ".o_form_view button[name='action_view_import_runs']",
            run: "click",
        },
        {
            content: "Open the run, done",
            trigger: ".o_list_view .o_data_row:has(td[name='state']:contains('Done')) td[name='account_id']",
            run: "click",
        },
        {
            content: "The run says what it did in plain words",
            trigger: ".o_form_view .o_amazon_sp_run_summary:contains('page(s) read from Amazon')",
        },
        {
            content: "Its status is Done",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Done')",
        },
    ],
});
