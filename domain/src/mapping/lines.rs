//! Line items on their way across: read from the source system into a neutral [`LineItem`],
//! written in the target system's shape (the product reference is left to the caller, which
//! lists it as pending).

use serde_json::{Value, json};

use super::mapped::{FieldProblem, ZOHO_LIST_PRICE, id_key, reference_parts};
use crate::pairs::{QboEntity, System};
use crate::record::{as_number, is_empty};

/// Where a pair keeps its line items: Zoho's subform and the QBO entity.
#[derive(Debug, Clone, Copy)]
pub(super) struct LinesOf {
    pub zoho_key: &'static str,
    pub entity: QboEntity,
}

/// A record's line items as read (`None`: it has none to copy), or why they cannot be copied.
pub(super) type ReadLines = Result<Option<Vec<LineItem>>, Vec<FieldProblem>>;

/// A product line as both systems keep it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct LineItem {
    /// The product's id and name in the source system.
    pub product_id: Option<String>,
    pub product_name: Option<String>,
    pub qty: f64,
    pub price: f64,
    pub description: Option<String>,
}

/// Zoho's line-item subform rows (rows marked `_delete` left out). A record without lines, a
/// line without a product and a quantity that is not a number stop the record; a discount is
/// noted (QBO lines carry none).
pub(super) fn read_zoho(
    rows: &Value,
    entity: QboEntity,
    notes: &mut Vec<String>,
) -> Result<Vec<LineItem>, Vec<FieldProblem>> {
    let Some(rows) = rows.as_array() else {
        return Err(vec![FieldProblem {
            field: "Line".into(),
            message: "the Zoho line items are not a list".into(),
        }]);
    };
    let rows: Vec<&Value> = rows
        .iter()
        .filter(|r| r.get("_delete").and_then(Value::as_bool) != Some(true))
        .collect();
    if rows.is_empty() {
        return Err(vec![FieldProblem {
            field: "Line".into(),
            message: format!(
                "the record has no line items; a QuickBooks {} needs at least one product line",
                entity.label()
            ),
        }]);
    }
    let mut problems = Vec::new();
    let mut items = Vec::new();
    for (index, row) in rows.into_iter().enumerate() {
        let number = index + 1;
        let product = row.get("Product_Name").filter(|p| !is_empty(Some(p)));
        let Some(product) = product else {
            problems.push(FieldProblem {
                field: format!("line {number}"),
                message: "no product is chosen".into(),
            });
            continue;
        };
        let (product_id, product_name) = reference_parts(product, id_key(System::Zoho));
        let qty = match row.get("Quantity").filter(|v| !v.is_null()) {
            None => 1.0,
            Some(v) => match as_number(v) {
                Some(q) => q,
                None => {
                    problems.push(FieldProblem {
                        field: format!("line {number}"),
                        message: format!("quantity {v} is not a number"),
                    });
                    continue;
                }
            },
        };
        // Zoho's own v8 SDK samples write `ListPrice`, other sources `List_Price`.
        let price = row
            .get(ZOHO_LIST_PRICE)
            .or_else(|| row.get("ListPrice"))
            .or_else(|| row.get("Unit_Price"))
            .and_then(as_number)
            .unwrap_or(0.0);
        let description = row
            .get("Description")
            .and_then(Value::as_str)
            .filter(|d| !d.trim().is_empty())
            .map(str::to_owned);
        if let Some(discount) = row
            .get("Discount")
            .and_then(as_number)
            .filter(|d| *d != 0.0)
        {
            notes.push(format!(
                "line {number}: the Zoho discount of {discount} was not copied (QuickBooks lines carry no discount; add a discount line in QuickBooks if needed)"
            ));
        }
        items.push(LineItem {
            product_id,
            product_name,
            qty,
            price,
            description,
        });
    }
    if problems.is_empty() {
        Ok(items)
    } else {
        Err(problems)
    }
}

/// QBO's product lines; other lines are noted and skipped (sub-totals silently). A missing
/// quantity is 1; a missing unit price is the amount divided by the quantity.
pub(super) fn read_qbo(lines: &[Value], notes: &mut Vec<String>) -> Vec<LineItem> {
    let mut items = Vec::new();
    for line in lines {
        let detail_type = line.get("DetailType").and_then(Value::as_str).unwrap_or("");
        if !matches!(
            detail_type,
            "SalesItemLineDetail" | "ItemBasedExpenseLineDetail"
        ) {
            if !matches!(detail_type, "SubTotalLineDetail" | "") {
                notes.push(format!(
                    "a QuickBooks {detail_type} line was not copied (Zoho line items hold products only)"
                ));
            }
            continue;
        }
        let detail = line.get(detail_type).unwrap_or(&Value::Null);
        let (product_id, product_name) = reference_parts(
            detail.get("ItemRef").unwrap_or(&Value::Null),
            id_key(System::Qbo),
        );
        let qty = detail.get("Qty").and_then(as_number).unwrap_or(1.0);
        let price = detail
            .get("UnitPrice")
            .and_then(as_number)
            .unwrap_or_else(|| {
                let amount = line.get("Amount").and_then(as_number).unwrap_or(0.0);
                if qty == 0.0 {
                    0.0
                } else {
                    round_cents(amount / qty)
                }
            });
        items.push(LineItem {
            product_id,
            product_name,
            qty,
            price,
            description: line
                .get("Description")
                .and_then(Value::as_str)
                .map(str::to_owned),
        });
    }
    items
}

/// A QBO line of `entity` (purchase orders take item-based expense lines, the rest sales
/// item lines), and the pointer to its `ItemRef`.
pub(super) fn qbo_line(
    item: &LineItem,
    index: usize,
    product: Value,
    entity: QboEntity,
) -> (Value, String) {
    let detail = match entity {
        QboEntity::PurchaseOrder => "ItemBasedExpenseLineDetail",
        _ => "SalesItemLineDetail",
    };
    let mut line = json!({
        "DetailType": detail,
        "Amount": round_cents(item.qty * item.price),
        detail: { "Qty": item.qty, "UnitPrice": item.price },
    });
    line[detail]["ItemRef"] = product;
    if let Some(text) = &item.description {
        line["Description"] = json!(text);
    }
    (line, format!("/Line/{index}/{detail}/ItemRef"))
}

/// A row of Zoho's subform `key`, and the pointer to its `Product_Name`.
pub(super) fn zoho_line(
    item: &LineItem,
    index: usize,
    product: Value,
    key: &str,
) -> (Value, String) {
    let mut row = json!({ "Quantity": item.qty, ZOHO_LIST_PRICE: item.price });
    row["Product_Name"] = product;
    if let Some(text) = &item.description {
        row["Description"] = json!(text);
    }
    (row, format!("/{key}/{index}/Product_Name"))
}

fn round_cents(amount: f64) -> f64 {
    (amount * 100.0).round() / 100.0
}
