/** @odoo-module **/
import { registry } from "@web/core/registry";

/**
 * What an accountant reads on a page of the addon holds no technical name: no state codes
 * in parentheses, no Amazon keys, no field names made into labels, no midnight times on
 * dates, no floats such as "100.0", no raw group id as a title. The test opens the page (its
 * address) and this tour reads everything the page shows, each notebook tab in turn (Amazon's
 * data as received, the raw and normalized JSON, apart).
 */
const TECHNICAL = [
    [/\((?:[a-z]+_[a-z_]+|new|posted|ready|error|nothing|ignored|deferred|draft)\)/, "a state code"],
    [/txn:/, "an Amazon transaction key"],
    [/Finances Api|Content Sha256|Raw Sha256|Sha256/, "a field name made into a label"],
    [/00:00:00/, "a midnight time on a date"],
    [/(^|[^\d.,:/])\d+\.\d(?![\d.])/m, "a float"],
];
const GROUP_ID = /^[A-Za-z0-9_-]{30,}$/;

// Amazon's data as received (the raw and normalized JSON of the audit trail) is not wording.
const DATA = "[name$='json'], [name$='json_pretty'], .o_field_ace, .o_field_code";

function visibleText(root) {
    const hidden = [...root.querySelectorAll(DATA)];
    const before = hidden.map((el) => el.style.cssText);
    hidden.forEach((el) => el.style.setProperty("display", "none", "important"));
    const text = root.innerText;
    hidden.forEach((el, i) => (el.style.cssText = before[i]));
    return text;
}

function technicalNames(root) {
    const text = visibleText(root);
    const found = [];
    for (const [pattern, what] of TECHNICAL) {
        const match = text.match(pattern);
        if (match) {
            const at = text.indexOf(match[0]);
            found.push(`${what}: "${text.slice(Math.max(0, at - 40), at + 40)}"`);
        }
    }
    for (const title of root.querySelectorAll(".o_breadcrumb .active, .oe_title h1")) {
        if (GROUP_ID.test(title.innerText.trim())) {
            found.push(`a raw group id as a name: "${title.innerText.trim()}"`);
        }
    }
    return found;
}

function check(where) {
    const found = technicalNames(document.querySelector(".o_action_manager"));
    if (found.length) {
        throw new Error(`Technical names on ${where}: ${found.join(" | ")}`);
    }
}

registry.category("web_tour.tours").add("account_amazon_refund_plain_words", {
    steps: () => [
        {
            content: "The page is shown",
            trigger: ".o_action_manager .o_view_controller .o_content",
        },
        {
            content: "What the page shows reads in plain words",
            trigger: ".o_action_manager .o_view_controller .o_content",
            run() {
                check(window.location.pathname);
            },
        },
        {
            content: "Each tab of a form reads in plain words",
            trigger: ".o_action_manager .o_view_controller .o_content",
            async run() {
                const tabs = document.querySelectorAll(".o_form_view .o_notebook .nav-link");
                for (const tab of tabs) {
                    tab.click();
                    // the tab's page is shown once its link is the active one and Owl drew it
                    for (let wait = 0; wait < 50 && !tab.classList.contains("active"); wait++) {
                        await new Promise((resolve) => setTimeout(resolve, 100));
                    }
                    await new Promise((resolve) => setTimeout(resolve, 500));
                    check(`${window.location.pathname}, tab ${tab.innerText.trim()}`);
                }
            },
        },
    ],
});

/**
 * The review queue, grouped by review reason: each group's total shows its currency.
 */
registry.category("web_tour.tours").add("account_amazon_refund_group_currency", {
    steps: () => [
        {
            content: "The review queue is grouped",
            trigger: ".o_list_view .o_group_header",
        },
        {
            content: "A group's total is written with its currency",
            trigger: ".o_list_view .o_group_header td.o_list_number:contains('$')",
        },
        {
            content: "The list's total is written with its currency",
            trigger: ".o_list_view tfoot td.o_list_number:contains('$')",
        },
    ],
});
