/** @odoo-module **/
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { patch } from "@web/core/utils/patch";
import { RelationalModel } from "@web/model/relational_model/relational_model";
import { ListRenderer } from "@web/views/list/list_renderer";

/**
 * Grouped lists of the addon's models show the totals of a group with their currency
 * ("$ 1,234.50", "¥ 55,850"), and no total where a group mixes currencies.
 *
 * Odoo formats a group's sums without a currency. For the addon's models the server sends,
 * with each group, the currency of its records per currency field (models/
 * amazon_sp_group_currency.py: `__amazon_sp_currency`, false where currencies mix); it is
 * kept here by model and group domain, the group's own key.
 */
const GROUP_CURRENCY_KEY = "__amazon_sp_currency";
const MAX_KEPT = 2000;
const groupCurrencies = new Map();
const formatters = registry.category("formatters");

function isAddonModel(resModel) {
    return typeof resModel === "string" && resModel.startsWith("amazon.sp.");
}

function groupKey(resModel, domain) {
    return `${resModel}|${JSON.stringify(domain)}`;
}

patch(RelationalModel.prototype, {
    async _webReadGroup(config) {
        const response = await super._webReadGroup(...arguments);
        if (isAddonModel(config.resModel)) {
            if (groupCurrencies.size > MAX_KEPT) {
                groupCurrencies.clear();
            }
            for (const group of response.groups || []) {
                if (group[GROUP_CURRENCY_KEY] && group.__domain) {
                    groupCurrencies.set(
                        groupKey(config.resModel, group.__domain),
                        group[GROUP_CURRENCY_KEY]
                    );
                }
            }
        }
        return response;
    },
});

patch(ListRenderer.prototype, {
    /**
     * The currency field of a monetary column of an addon's model, or null.
     */
    _amazonSpCurrencyField(column) {
        if (column.type !== "field" || !isAddonModel(this.props.list.resModel)) {
            return null;
        }
        const field = this.props.list.fields[column.name];
        if (!field || (field.type !== "monetary" && column.widget !== "monetary")) {
            return null;
        }
        return column.options.currency_field || field.currency_field || "currency_id";
    },

    /**
     * The currency of a group's records for one currency field: its id, false when they are
     * in several currencies, undefined when the server did not say.
     */
    _amazonSpGroupCurrency(group, currencyField) {
        if (group.groupByField && group.groupByField.name === currencyField) {
            return group.value || false;
        }
        const currencies = groupCurrencies.get(
            groupKey(this.props.list.resModel, group.groupDomain)
        );
        return currencies && currencyField in currencies ? currencies[currencyField] : undefined;
    },

    _amazonSpFormatMoney(value, column, currencyId) {
        const field = this.props.list.fields[column.name];
        const formatter = formatters.get(column.widget, false) || formatters.get(field.type);
        return formatter(value, { currencyId, escape: true });
    },

    formatAggregateValue(group, column) {
        const currencyField = this._amazonSpCurrencyField(column);
        if (!currencyField || !(column.name in group.aggregates)) {
            return super.formatAggregateValue(...arguments);
        }
        const currencyId = this._amazonSpGroupCurrency(group, currencyField);
        if (currencyId === undefined) {
            return super.formatAggregateValue(...arguments);
        }
        if (!currencyId) {
            return "—";
        }
        return this._amazonSpFormatMoney(group.aggregates[column.name], column, currencyId);
    },

    get aggregates() {
        const aggregates = super.aggregates;
        const list = this.props.list;
        if (!list.isGrouped || (list.selection && list.selection.length)) {
            return aggregates;
        }
        for (const column of this.allColumns) {
            const currencyField = this._amazonSpCurrencyField(column);
            if (!currencyField || !column.attrs.sum || !(column.name in aggregates)) {
                continue;
            }
            const groups = list.groups.filter((group) => column.name in group.aggregates);
            const ids = new Set(
                groups.map((group) => this._amazonSpGroupCurrency(group, currencyField))
            );
            if (!groups.length || ids.has(undefined)) {
                continue;
            }
            const [currencyId] = ids;
            if (ids.size === 1 && currencyId) {
                const total = groups.reduce((sum, group) => sum + group.aggregates[column.name], 0);
                aggregates[column.name] = {
                    help: aggregates[column.name].help,
                    value: this._amazonSpFormatMoney(total, column, currencyId),
                };
            } else {
                aggregates[column.name] = {
                    help: _t("Different currencies cannot be aggregated"),
                    value: "—",
                };
            }
        }
        return aggregates;
    },
});
