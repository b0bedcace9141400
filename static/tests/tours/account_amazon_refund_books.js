/** @odoo-module **/
import { registry } from "@web/core/registry";

/**
 * An accountant of the Amazon Refunds User group, without the full accounting features,
 * opens an Amazon document (the test passes its address) and reads its journal items.
 */
registry.category("web_tour.tours").add("account_amazon_refund_books", {
    steps: () => [
        {
            content: "The Amazon document is open",
            trigger: ".o_form_view .o_form_sheet",
        },
        {
            content: "Open its journal items",
            trigger: ".o_form_view .o_notebook a.nav-link[name='aml_tab']",
            run: "click",
        },
        {
            content: "The Amazon clearing account is among its journal items",
            trigger:
                ".o_form_view div[name='line_ids'] .o_data_row td[name='account_id']:contains('AMZCLR')",
        },
        {
            content: "Every line shows its account",
            trigger:
                ".o_form_view div[name='line_ids'] .o_data_row:nth-child(2) td[name='account_id']",
        },
    ],
});
