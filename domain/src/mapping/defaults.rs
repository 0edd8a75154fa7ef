//! The built-in mapping of every pair ("Reset Default Mapping").

use super::{FieldMapping, Mapping};
use crate::pairs::{ModulePair, SalesOrderTarget};

const ADDRESS_PARTS: [&str; 5] = [
    "Line1",
    "City",
    "CountrySubDivisionCode",
    "PostalCode",
    "Country",
];

fn address(qbo_prefix: &str, zoho: [&str; 5]) -> Vec<FieldMapping> {
    ADDRESS_PARTS
        .iter()
        .zip(zoho)
        .map(|(part, z)| FieldMapping::zoho(&format!("{qbo_prefix}.{part}"), z))
        .collect()
}

const BILLING: [&str; 5] = [
    "Billing_Street",
    "Billing_City",
    "Billing_State",
    "Billing_Code",
    "Billing_Country",
];
const SHIPPING: [&str; 5] = [
    "Shipping_Street",
    "Shipping_City",
    "Shipping_State",
    "Shipping_Code",
    "Shipping_Country",
];

/// The built-in mapping of `pair` ("Reset Default Mapping"). Sales Orders map
/// to whichever QBO entity the tenant chose.
pub fn default_mapping(pair: ModulePair, sales_orders: SalesOrderTarget) -> Mapping {
    let m = FieldMapping::zoho;
    let mut fields = match pair {
        ModulePair::AccountsCustomers => {
            let mut f = vec![
                m("DisplayName", "Account_Name"),
                m("PrimaryPhone.FreeFormNumber", "Phone"),
                m("Fax.FreeFormNumber", "Fax"),
                m("WebAddr.URI", "Website"),
                m("Notes", "Description"),
            ];
            f.extend(address("BillAddr", BILLING));
            f.extend(address("ShipAddr", SHIPPING));
            f
        }
        ModulePair::ContactsCustomers => {
            let mut f = vec![
                m("DisplayName", "Full_Name"),
                m("GivenName", "First_Name"),
                m("FamilyName", "Last_Name"),
                m("PrimaryEmailAddr.Address", "Email"),
                m("PrimaryPhone.FreeFormNumber", "Phone"),
                m("Mobile.FreeFormNumber", "Mobile"),
                m("Fax.FreeFormNumber", "Fax"),
                m("Notes", "Description"),
            ];
            f.extend(address(
                "BillAddr",
                [
                    "Mailing_Street",
                    "Mailing_City",
                    "Mailing_State",
                    "Mailing_Zip",
                    "Mailing_Country",
                ],
            ));
            f
        }
        ModulePair::ProductsItems => vec![
            m("Name", "Product_Name"),
            m("Sku", "Product_Code"),
            m("Description", "Description"),
            m("UnitPrice", "Unit_Price"),
            m("QtyOnHand", "Qty_in_Stock"),
            m("ReorderPoint", "Reorder_Level"),
            m("Taxable", "Taxable"),
            m("Active", "Product_Active"),
        ],
        ModulePair::QuotesEstimates => {
            let mut f = vec![
                m("CustomerRef", "Account_Name"),
                m("ExpirationDate", "Valid_Till"),
                m("CustomerMemo.value", "Terms_and_Conditions"),
                m("PrivateNote", "Description"),
            ];
            f.extend(address("BillAddr", BILLING));
            f.extend(address("ShipAddr", SHIPPING));
            f
        }
        ModulePair::SalesOrders => {
            let due = match sales_orders {
                SalesOrderTarget::Invoice => "DueDate",
                SalesOrderTarget::Estimate => "ExpirationDate",
            };
            let mut f = vec![
                m("CustomerRef", "Account_Name"),
                m(due, "Due_Date"),
                m("CustomerMemo.value", "Terms_and_Conditions"),
                m("PrivateNote", "Description"),
            ];
            f.extend(address("BillAddr", BILLING));
            f.extend(address("ShipAddr", SHIPPING));
            f
        }
        ModulePair::InvoicesInvoices => {
            let mut f = vec![
                m("CustomerRef", "Account_Name"),
                m("TxnDate", "Invoice_Date"),
                m("DueDate", "Due_Date"),
                m("CustomerMemo.value", "Terms_and_Conditions"),
                m("PrivateNote", "Description"),
            ];
            f.extend(address("BillAddr", BILLING));
            f.extend(address("ShipAddr", SHIPPING));
            f
        }
        ModulePair::VendorsVendors => {
            let mut f = vec![
                m("DisplayName", "Vendor_Name"),
                m("PrimaryEmailAddr.Address", "Email"),
                m("PrimaryPhone.FreeFormNumber", "Phone"),
                m("WebAddr.URI", "Website"),
            ];
            f.extend(address(
                "BillAddr",
                ["Street", "City", "State", "Zip_Code", "Country"],
            ));
            f
        }
        ModulePair::PurchaseOrders => {
            let mut f = vec![
                m("VendorRef", "Vendor_Name"),
                m("DocNumber", "PO_Number"),
                m("TxnDate", "PO_Date"),
                m("DueDate", "Due_Date"),
                m("Memo", "Terms_and_Conditions"),
                m("PrivateNote", "Description"),
            ];
            f.extend(address("ShipAddr", SHIPPING));
            f
        }
    };
    fields.shrink_to_fit();
    Mapping { fields }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::MappingSource;
    use crate::mapping::test_support::catalogue;
    use crate::mapping::{ValidationReport, validate};
    use crate::pairs::Direction;

    #[test]
    fn every_default_mapping_is_valid_for_its_default_direction() {
        for target in [SalesOrderTarget::Invoice, SalesOrderTarget::Estimate] {
            for pair in ModulePair::ALL {
                let cat = catalogue(pair, target);
                let mapping = default_mapping(pair, target);
                assert!(!mapping.fields.is_empty());
                let report = validate(&mapping, &cat, Direction::ZohoToQbo);
                assert_eq!(report, ValidationReport::default(), "{pair:?} {target:?}");
                let both = validate(&mapping, &cat, Direction::Bidirectional);
                assert!(both.is_ok(), "{pair:?}: {:?}", both.errors);
            }
        }
    }

    #[test]
    fn defaults_include_the_spec_examples() {
        let accounts = default_mapping(ModulePair::AccountsCustomers, SalesOrderTarget::Invoice);
        let zoho = |m: &Mapping, q: &str| m.get(q).cloned();
        let src = |f: &str| Some(MappingSource::Zoho { field: f.into() });
        assert_eq!(zoho(&accounts, "DisplayName"), src("Account_Name"));
        assert_eq!(zoho(&accounts, "PrimaryPhone.FreeFormNumber"), src("Phone"));
        assert_eq!(zoho(&accounts, "BillAddr.Line1"), src("Billing_Street"));
        let products = default_mapping(ModulePair::ProductsItems, SalesOrderTarget::Invoice);
        assert_eq!(zoho(&products, "Name"), src("Product_Name"));
        assert_eq!(zoho(&products, "UnitPrice"), src("Unit_Price"));
        assert_eq!(zoho(&products, "QtyOnHand"), src("Qty_in_Stock"));
        let so_inv = default_mapping(ModulePair::SalesOrders, SalesOrderTarget::Invoice);
        let so_est = default_mapping(ModulePair::SalesOrders, SalesOrderTarget::Estimate);
        assert_eq!(zoho(&so_inv, "DueDate"), src("Due_Date"));
        assert_eq!(zoho(&so_est, "ExpirationDate"), src("Due_Date"));
        assert_eq!(zoho(&so_est, "DueDate"), None);
    }
}
