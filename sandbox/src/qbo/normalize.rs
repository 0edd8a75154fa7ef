//! What QBO checks and fills when it stores a write: references to existing active objects,
//! unique display names, the fields it defaults or computes (totals, balances, line numbers,
//! `DocNumber`, `DueDate`, addresses copied from the customer…).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Map, Value, json};

use super::store::{name_field, name_space, num};
use super::{Fault, Realm, canonical};
use crate::util::round2;

impl Realm {
    /// Validates references and fills the fields QBO computes or defaults.
    pub(super) fn normalize(
        &self,
        entity: &'static str,
        object: &mut Map<String, Value>,
        current: Option<&Value>,
        now: DateTime<Utc>,
    ) -> Result<(), Fault> {
        // Stored addresses get an Id, as QBO numbers every physical address it keeps.
        let self_number = object
            .get("Id")
            .and_then(Value::as_str)
            .unwrap_or("1")
            .to_owned();
        for key in ["BillAddr", "ShipAddr"] {
            if let Some(address) = object.get_mut(key).and_then(Value::as_object_mut) {
                address
                    .entry("Id")
                    .or_insert_with(|| json!(self_number.clone()));
                // Recorded traffic: addresses QBO cannot geocode (no Country) carry "INVALID" coordinates.
                if !address.contains_key("Country") {
                    address.entry("Lat").or_insert(json!("INVALID"));
                    address.entry("Long").or_insert(json!("INVALID"));
                }
            }
        }
        object.insert("domain".into(), json!("QBO"));
        object.insert("sparse".into(), json!(false));
        // python-quickbooks sends these as "" on every new transaction (its objects' defaults);
        // QBO fills them as if they were left out: today, the due date, the next number.
        for key in ["TxnDate", "DueDate", "ShipDate", "DocNumber"] {
            if object.get(key) == Some(&json!("")) {
                object.remove(key);
            }
        }
        if matches!(entity, "Customer" | "Vendor") {
            // An opaque per-object id Intuit added in 2025; derived from the entity and id so it is stable.
            let pseudonym = format!("0020{}{:0>30}", entity.len(), self_number);
            object.entry("V4IDPseudonym").or_insert(json!(pseudonym));
        }
        let self_id = object
            .get("Id")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u64>().ok());
        if let Some(field) = name_field(entity) {
            if (entity == "Customer" || entity == "Vendor")
                && object
                    .get("DisplayName")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
            {
                let composed: Vec<&str> = ["GivenName", "FamilyName"]
                    .iter()
                    .filter_map(|k| object.get(*k).and_then(Value::as_str))
                    .collect();
                let name = if composed.is_empty() {
                    object
                        .get("CompanyName")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                } else {
                    Some(composed.join(" "))
                };
                match name {
                    Some(name) => {
                        object.insert("DisplayName".into(), json!(name));
                    }
                    None => return Err(Fault::required("DisplayName")),
                }
            }
            let active = object
                .get("Active")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            object.insert("Active".into(), json!(active));
            let Some(mut name) = object
                .get(field)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .filter(|n| !n.trim().is_empty())
            else {
                return Err(Fault::required(field));
            };
            let was_active = current.is_none_or(|c| c["Active"] != json!(false));
            if !active && was_active && !name.ends_with(" (deleted)") {
                // QBO renames a made-inactive name-list object so the name is free for reuse.
                name.push_str(" (deleted)");
            }
            if active && let Some(stripped) = name.strip_suffix(" (deleted)") {
                name = stripped.to_owned();
            }
            if let Some(existing) = self.names.get(&(name_space(entity), name.to_lowercase())) {
                let clash_alive = ["Customer", "Vendor", entity]
                    .iter()
                    .any(|e| canonical(e).and_then(|e| self.get(e, *existing)).is_some());
                if Some(*existing) != self_id && clash_alive {
                    return Err(Fault::duplicate_name(entity));
                }
            }
            object.insert(field.into(), json!(name));
            object.insert("FullyQualifiedName".into(), json!(name));
        }
        match entity {
            "Customer" => {
                let display = object["DisplayName"].clone();
                object.entry("PrintOnCheckName").or_insert(display);
                for (key, default) in [
                    ("Taxable", json!(true)),
                    ("Job", json!(false)),
                    ("BillWithParent", json!(false)),
                    ("Balance", json!(0)),
                    ("BalanceWithJobs", json!(0)),
                    ("PreferredDeliveryMethod", json!("Print")),
                    ("IsProject", json!(false)),
                ] {
                    object.entry(key).or_insert(default);
                }
                object.entry("CurrencyRef").or_insert_with(currency);
                if object.get("Taxable") == Some(&json!(true))
                    && let Some(tax) = self.find_id("TaxCode", "TAX")
                {
                    object
                        .entry("DefaultTaxCodeRef")
                        .or_insert_with(|| json!({"value": tax.to_string()}));
                }
            }
            "Vendor" => {
                let display = object["DisplayName"].clone();
                object.entry("PrintOnCheckName").or_insert(display);
                object.entry("Balance").or_insert(json!(0));
                object.entry("Vendor1099").or_insert(json!(false));
                object.entry("BillRate").or_insert(json!(0));
                object.entry("CostRate").or_insert(json!(0));
                object.entry("CurrencyRef").or_insert_with(currency);
            }
            "Item" => self.normalize_item(object)?,
            "Account" => {
                let Some(kind) = object
                    .get("AccountType")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                else {
                    return Err(Fault::required("AccountType"));
                };
                let classification = match kind.as_str() {
                    "Income" | "Other Income" => "Revenue",
                    "Expense" | "Other Expense" | "Cost of Goods Sold" => "Expense",
                    "Accounts Payable"
                    | "Credit Card"
                    | "Other Current Liability"
                    | "Long Term Liability" => "Liability",
                    "Equity" => "Equity",
                    _ => "Asset",
                };
                object
                    .entry("Classification")
                    .or_insert(json!(classification));
                object.entry("SubAccount").or_insert(json!(false));
                object.entry("CurrentBalance").or_insert(json!(0));
                object
                    .entry("CurrentBalanceWithSubAccounts")
                    .or_insert(json!(0));
                object.entry("CurrencyRef").or_insert_with(currency);
            }
            "Term" => {
                object.entry("Type").or_insert(json!("STANDARD"));
                object.entry("DueDays").or_insert(json!(0));
                object.entry("DiscountPercent").or_insert(json!(0));
                object.entry("DiscountDays").or_insert(json!(0));
            }
            "Invoice" | "Estimate" | "SalesReceipt" => self.normalize_sales(entity, object, now)?,
            "PurchaseOrder" => self.normalize_purchase_order(object, now)?,
            "Bill" => self.normalize_bill(object, now)?,
            "BillPayment" => self.normalize_bill_payment(object, now)?,
            "Payment" => {
                self.require_ref(object, "CustomerRef", "Customer")?;
                let total =
                    num(object.get("TotalAmt")).ok_or_else(|| Fault::required("TotalAmt"))?;
                let applied: f64 = object
                    .get("Line")
                    .and_then(Value::as_array)
                    .map_or(0.0, |l| {
                        l.iter().filter_map(|line| num(line.get("Amount"))).sum()
                    });
                object.insert("TotalAmt".into(), json!(total));
                object.insert("UnappliedAmt".into(), json!(round2(total - applied)));
                object
                    .entry("DepositToAccountRef")
                    .or_insert_with(|| self.undeposited_funds());
                object.entry("ProcessPayment").or_insert(json!(false));
                object.entry("TxnDate").or_insert_with(|| json!(today(now)));
                object.entry("CurrencyRef").or_insert_with(currency);
                object.entry("Line").or_insert(json!([]));
            }
            _ => {}
        }
        Ok(())
    }

    fn normalize_item(&self, object: &mut Map<String, Value>) -> Result<(), Fault> {
        let kind = object
            .get("Type")
            .and_then(Value::as_str)
            .unwrap_or("NonInventory")
            .to_owned();
        if !matches!(
            kind.as_str(),
            "Inventory" | "Service" | "NonInventory" | "Category" | "Group"
        ) {
            return Err(Fault::validation(
                "2170",
                "Invalid Enumeration",
                format!("Invalid Enumeration : {kind}"),
            )
            .element("Type"));
        }
        object.insert("Type".into(), json!(kind));
        let required_refs: &[&str] = match kind.as_str() {
            "Inventory" => &["IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef"],
            "Service" | "NonInventory" => &["IncomeAccountRef"],
            _ => &[],
        };
        for field in required_refs {
            self.require_ref(object, field, "Account")?;
        }
        if kind == "Inventory" {
            if object.get("TrackQtyOnHand") != Some(&json!(true)) {
                return Err(
                    Fault::business("TrackQtyOnHand must be true for an Inventory item")
                        .element("TrackQtyOnHand"),
                );
            }
            for field in ["QtyOnHand", "InvStartDate"] {
                if object.get(field).is_none_or(Value::is_null) {
                    return Err(Fault::required(field));
                }
            }
        } else {
            object.entry("TrackQtyOnHand").or_insert(json!(false));
        }
        for (key, default) in [
            ("Taxable", json!(false)),
            ("UnitPrice", json!(0)),
            ("PurchaseCost", json!(0)),
            ("SubItem", json!(false)),
            ("DeferredRevenue", json!(false)),
        ] {
            object.entry(key).or_insert(default);
        }
        Ok(())
    }

    fn sales_lines(&self, object: &mut Map<String, Value>, detail_key: &str) -> Result<f64, Fault> {
        let Some(Value::Array(lines)) = object.get("Line").cloned() else {
            return Err(Fault::required("Line"));
        };
        let mut total = 0.0;
        let mut out = Vec::new();
        for (index, mut line) in lines
            .into_iter()
            .filter(|l| l["DetailType"] != json!("SubTotalLineDetail"))
            .enumerate()
        {
            let detail_type = line["DetailType"].as_str().unwrap_or_default().to_owned();
            if detail_type.is_empty() {
                return Err(Fault::required("DetailType"));
            }
            if let Some(detail) = line.get_mut(detail_key).and_then(Value::as_object_mut) {
                detail
                    .entry("TaxCodeRef")
                    .or_insert(json!({"value": "NON"}));
                if detail_key != "SalesItemLineDetail" {
                    detail
                        .entry("BillableStatus")
                        .or_insert(json!("NotBillable"));
                }
                if let Some(reference) = detail.get("ItemRef").cloned() {
                    let item = self.resolve_ref("Item", &reference, "Item")?;
                    let income = item["value"]
                        .as_str()
                        .and_then(|id| id.parse::<u64>().ok())
                        .and_then(|id| self.get("Item", id))
                        .map(|row| row["IncomeAccountRef"].clone());
                    if detail_key == "SalesItemLineDetail"
                        && let Some(income) = income.filter(|r| !r.is_null())
                    {
                        detail.entry("ItemAccountRef").or_insert(income);
                    }
                    detail.insert("ItemRef".into(), item);
                }
                if let Some(reference) = detail.get("AccountRef").cloned() {
                    detail.insert(
                        "AccountRef".into(),
                        self.resolve_ref("Account", &reference, "Account")?,
                    );
                }
            }
            let amount = match num(line.get("Amount")) {
                Some(amount) => amount,
                None => {
                    let detail = &line[detail_key];
                    num(detail.get("Qty")).unwrap_or(1.0)
                        * num(detail.get("UnitPrice")).unwrap_or(0.0)
                }
            };
            let amount = round2(amount);
            if line.get("Id").is_none() {
                line["Id"] = json!((index + 1).to_string());
            }
            line["LineNum"] = json!(index + 1);
            if line.get("CustomExtensions").is_none() {
                line["CustomExtensions"] = json!([]);
            }
            line["Amount"] = json!(amount);
            total += amount;
            out.push(line);
        }
        if out.is_empty() {
            return Err(Fault::required("Line"));
        }
        if detail_key == "SalesItemLineDetail" {
            out.push(json!({"Amount": round2(total), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}));
        }
        object.insert("Line".into(), Value::Array(out));
        Ok(round2(total))
    }

    fn normalize_sales(
        &self,
        entity: &str,
        object: &mut Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<(), Fault> {
        // A cash sale (SalesReceipt) may omit the customer; invoices and estimates may not.
        match object.get("CustomerRef").cloned() {
            Some(reference) => {
                let resolved = self.resolve_ref("Customer", &reference, "Customer")?;
                let customer = resolved["value"]
                    .as_str()
                    .and_then(|id| id.parse::<u64>().ok())
                    .and_then(|id| self.get("Customer", id));
                if let Some(customer) = customer {
                    // QBO copies the customer's addresses and e-mail onto a new document.
                    for (from, to) in [
                        ("BillAddr", "BillAddr"),
                        ("ShipAddr", "ShipAddr"),
                        ("PrimaryEmailAddr", "BillEmail"),
                    ] {
                        if !customer[from].is_null() && !object.contains_key(to) {
                            object.insert(to.into(), customer[from].clone());
                        }
                    }
                }
                object.insert("CustomerRef".into(), resolved);
            }
            None if entity == "SalesReceipt" => {}
            None => return Err(Fault::required("CustomerRef")),
        }
        let total = self.sales_lines(object, "SalesItemLineDetail")?;
        let txn_date = object
            .get("TxnDate")
            .and_then(Value::as_str)
            .map_or_else(|| today(now), str::to_owned);
        object.insert("TxnDate".into(), json!(txn_date));
        object.insert("TotalAmt".into(), json!(total));
        object.entry("CurrencyRef").or_insert_with(currency);
        object
            .entry("TxnTaxDetail")
            .or_insert(json!({"TotalTax": 0}));
        object
            .entry("CustomField")
            .or_insert(json!([{"DefinitionId": "1", "Name": "Crew #", "Type": "StringType"}]));
        object.entry("LinkedTxn").or_insert(json!([]));
        object
            .entry("ApplyTaxAfterDiscount")
            .or_insert(json!(false));
        object.entry("FreeFormAddress").or_insert(json!(true));
        // The company's address, as QBO stamps it on sales forms.
        object.entry("ShipFromAddr").or_insert_with(
            || json!({"Id": "106", "Line1": "123 Sierra Way", "Line2": "San Pablo, CA  87999"}),
        );
        if entity == "SalesReceipt" {
            object
                .entry("DepositToAccountRef")
                .or_insert_with(|| self.undeposited_funds());
        }
        object.entry("PrintStatus").or_insert(json!("NeedToPrint"));
        object.entry("EmailStatus").or_insert(json!("NotSet"));
        number_document(object);
        match entity {
            "Invoice" => {
                // Whatever payments apply to it stay applied through an update of the invoice.
                let paid = self_id_of(object).map_or(0.0, |id| self.paid_toward("Invoice", id));
                object.insert("Balance".into(), json!(round2((total - paid).max(0.0))));
                let due = NaiveDate::parse_from_str(&txn_date, "%Y-%m-%d")
                    .map(|d| (d + Duration::days(30)).to_string())
                    .unwrap_or(txn_date.clone());
                object.entry("DueDate").or_insert(json!(due));
                for key in [
                    "AllowIPNPayment",
                    "AllowOnlinePayment",
                    "AllowOnlineCreditCardPayment",
                    "AllowOnlineACHPayment",
                ] {
                    object.entry(key).or_insert(json!(false));
                }
            }
            "Estimate" => {
                object.entry("TxnStatus").or_insert(json!("Pending"));
            }
            _ => {
                object.insert("Balance".into(), json!(0));
            }
        }
        Ok(())
    }

    /// The item- and account-based expense lines of a purchase order or bill; their total.
    fn expense_lines(&self, object: &mut Map<String, Value>) -> Result<f64, Fault> {
        let mut total = 0.0;
        for key in [
            "ItemBasedExpenseLineDetail",
            "AccountBasedExpenseLineDetail",
        ] {
            let uses = object
                .get("Line")
                .and_then(Value::as_array)
                .is_some_and(|l| l.iter().any(|line| line.get(key).is_some()));
            if uses {
                total = self.sales_lines(object, key)?;
            }
        }
        if total == 0.0 && object.get("Line").is_none() {
            return Err(Fault::required("Line"));
        }
        Ok(total)
    }

    fn accounts_payable(&self) -> Option<Value> {
        self.find_id("Account", "Accounts Payable (A/P)")
            .map(|ap| json!({"value": ap.to_string(), "name": "Accounts Payable (A/P)"}))
    }

    fn normalize_bill(
        &self,
        object: &mut Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<(), Fault> {
        self.require_ref(object, "VendorRef", "Vendor")?;
        let total = self.expense_lines(object)?;
        let paid = self_id_of(object).map_or(0.0, |id| self.paid_toward("Bill", id));
        object.insert("TotalAmt".into(), json!(total));
        object.insert("Balance".into(), json!(round2((total - paid).max(0.0))));
        let txn_date = object
            .get("TxnDate")
            .and_then(Value::as_str)
            .map_or_else(|| today(now), str::to_owned);
        object.insert("TxnDate".into(), json!(txn_date));
        object.entry("DueDate").or_insert(json!(txn_date));
        object.entry("CurrencyRef").or_insert_with(currency);
        object.entry("LinkedTxn").or_insert(json!([]));
        if let Some(ap) = self.accounts_payable() {
            object.entry("APAccountRef").or_insert(ap);
        }
        Ok(())
    }

    /// A bill payment: by check from a bank account or by credit card, its lines linking bills.
    fn normalize_bill_payment(
        &self,
        object: &mut Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<(), Fault> {
        self.require_ref(object, "VendorRef", "Vendor")?;
        let total = num(object.get("TotalAmt")).ok_or_else(|| Fault::required("TotalAmt"))?;
        object.insert("TotalAmt".into(), json!(total));
        let (detail, account) = match object.get("PayType").and_then(Value::as_str) {
            Some("Check") => ("CheckPayment", "BankAccountRef"),
            Some("CreditCard") => ("CreditCardPayment", "CCAccountRef"),
            _ => return Err(Fault::required("PayType")),
        };
        let reference = object
            .get(detail)
            .and_then(|d| d.get(account))
            .cloned()
            .ok_or_else(|| Fault::required(&format!("{detail}.{account}")))?;
        let resolved = self.resolve_ref("Account", &reference, "Account")?;
        object.insert(detail.into(), json!({account: resolved}));
        object.entry("Line").or_insert(json!([]));
        object.entry("TxnDate").or_insert_with(|| json!(today(now)));
        object.entry("CurrencyRef").or_insert_with(currency);
        if let Some(ap) = self.accounts_payable() {
            object.entry("APAccountRef").or_insert(ap);
        }
        Ok(())
    }

    fn normalize_purchase_order(
        &self,
        object: &mut Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<(), Fault> {
        self.require_ref(object, "VendorRef", "Vendor")?;
        let total = self.expense_lines(object)?;
        object.insert("TotalAmt".into(), json!(total));
        object.entry("POStatus").or_insert(json!("Open"));
        object.entry("CustomField").or_insert(json!([]));
        object.entry("LinkedTxn").or_insert(json!([]));
        number_document(object);
        object.entry("TxnDate").or_insert_with(|| json!(today(now)));
        object.entry("CurrencyRef").or_insert_with(currency);
        object.entry("EmailStatus").or_insert(json!("NotSet"));
        if let Some(ap) = self.accounts_payable() {
            object.entry("APAccountRef").or_insert(ap);
        }
        Ok(())
    }

    /// Replaces the required reference `field` with the `{value, name}` of the active `entity`
    /// object it names.
    fn require_ref(
        &self,
        object: &mut Map<String, Value>,
        field: &str,
        entity: &'static str,
    ) -> Result<(), Fault> {
        let reference = object
            .get(field)
            .cloned()
            .ok_or_else(|| Fault::required(field))?;
        object.insert(field.into(), self.resolve_ref(entity, &reference, entity)?);
        Ok(())
    }

    /// Where received money lands unless the client says otherwise.
    fn undeposited_funds(&self) -> Value {
        let id = self.find_id("Account", "Undeposited Funds").unwrap_or(0);
        json!({"value": id.to_string(), "name": "Undeposited Funds"})
    }
}

/// Auto-numbering: `DocNumber` 1000 + the id unless the client gave one (custom transaction
/// numbers are off in the simulated company).
fn number_document(object: &mut Map<String, Value>) {
    let id = object
        .get("Id")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0);
    object
        .entry("DocNumber")
        .or_insert_with(|| json!((1000 + id).to_string()));
}

/// The id of the object being written (set before normalizing; absent only in tests).
fn self_id_of(object: &Map<String, Value>) -> Option<u64> {
    object
        .get("Id")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<u64>().ok())
}

fn currency() -> Value {
    json!({"value": "USD", "name": "United States Dollar"})
}

pub(super) fn today(now: DateTime<Utc>) -> String {
    now.with_timezone(&crate::util::pacific())
        .format("%Y-%m-%d")
        .to_string()
}
