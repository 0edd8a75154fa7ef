//! Zoho CRM's standard fields that the default mappings use, as data (an org's own fields
//! come from Zoho's field metadata API at run time).

#[allow(clippy::wildcard_imports)] // the catalogue's types
use super::*;
use DataType as T;
/// (api_name, label, type, required, read_only, lookup module, picklist values)
type ZohoSpec = (
    &'static str,
    &'static str,
    DataType,
    bool,
    bool,
    Option<&'static str>,
    &'static [&'static str],
);

const fn z(api_name: &'static str, label: &'static str, data_type: DataType) -> ZohoSpec {
    (api_name, label, data_type, false, false, None, &[])
}

const fn zreq(api_name: &'static str, label: &'static str, data_type: DataType) -> ZohoSpec {
    (api_name, label, data_type, true, false, None, &[])
}

const fn zro(api_name: &'static str, label: &'static str, data_type: DataType) -> ZohoSpec {
    (api_name, label, data_type, false, true, None, &[])
}

const fn lookup(
    api_name: &'static str,
    label: &'static str,
    module: &'static str,
    required: bool,
) -> ZohoSpec {
    (
        api_name,
        label,
        T::Reference,
        required,
        false,
        Some(module),
        &[],
    )
}

const fn pick(
    api_name: &'static str,
    label: &'static str,
    values: &'static [&'static str],
) -> ZohoSpec {
    (api_name, label, T::Picklist, false, false, None, values)
}

const BILLING_SHIPPING: &[ZohoSpec] = &[
    z("Billing_Street", "Billing Street", T::Text),
    z("Billing_City", "Billing City", T::Text),
    z("Billing_State", "Billing State", T::Text),
    z("Billing_Code", "Billing Code", T::Text),
    z("Billing_Country", "Billing Country", T::Text),
    z("Shipping_Street", "Shipping Street", T::Text),
    z("Shipping_City", "Shipping City", T::Text),
    z("Shipping_State", "Shipping State", T::Text),
    z("Shipping_Code", "Shipping Code", T::Text),
    z("Shipping_Country", "Shipping Country", T::Text),
];

const ACCOUNTS: &[ZohoSpec] = &[
    zreq("Account_Name", "Account Name", T::Text),
    z("Account_Number", "Account Number", T::Text),
    z("Phone", "Phone", T::Phone),
    z("Fax", "Fax", T::Phone),
    z("Website", "Website", T::Url),
    pick(
        "Account_Type",
        "Account Type",
        &[
            "Analyst",
            "Competitor",
            "Customer",
            "Distributor",
            "Integrator",
            "Investor",
            "Other",
            "Partner",
            "Press",
            "Prospect",
            "Reseller",
            "Supplier",
            "Vendor",
        ],
    ),
    z("Industry", "Industry", T::Picklist),
    z("Description", "Description", T::TextArea),
];

const CONTACTS: &[ZohoSpec] = &[
    z("First_Name", "First Name", T::Text),
    zreq("Last_Name", "Last Name", T::Text),
    zro("Full_Name", "Full Name", T::Text),
    z("Email", "Email", T::Email),
    z("Phone", "Phone", T::Phone),
    z("Mobile", "Mobile", T::Phone),
    z("Fax", "Fax", T::Phone),
    z("Title", "Title", T::Text),
    z("Department", "Department", T::Text),
    lookup("Account_Name", "Account Name", "Accounts", false),
    z("Mailing_Street", "Mailing Street", T::Text),
    z("Mailing_City", "Mailing City", T::Text),
    z("Mailing_State", "Mailing State", T::Text),
    z("Mailing_Zip", "Mailing Zip", T::Text),
    z("Mailing_Country", "Mailing Country", T::Text),
    z("Description", "Description", T::TextArea),
];

const PRODUCTS: &[ZohoSpec] = &[
    zreq("Product_Name", "Product Name", T::Text),
    z("Product_Code", "Product Code", T::Text),
    z("Unit_Price", "Unit Price", T::Currency),
    z("Qty_in_Stock", "Qty in Stock", T::Decimal),
    z("Reorder_Level", "Reorder Level", T::Decimal),
    z("Usage_Unit", "Usage Unit", T::Picklist),
    z("Taxable", "Taxable", T::Boolean),
    z("Product_Active", "Product Active", T::Boolean),
    z("Product_Category", "Product Category", T::Picklist),
    z("Manufacturer", "Manufacturer", T::Picklist),
    lookup("Vendor_Name", "Vendor Name", "Vendors", false),
    z("Commission_Rate", "Commission Rate", T::Currency),
    z("Sales_Start_Date", "Sales Start Date", T::Date),
    z("Sales_End_Date", "Sales End Date", T::Date),
    z("Description", "Description", T::TextArea),
];

const QUOTES: &[ZohoSpec] = &[
    zreq("Subject", "Subject", T::Text),
    zro("Quote_Number", "Quote Number", T::Text),
    pick(
        "Quote_Stage",
        "Quote Stage",
        &[
            "Draft",
            "Negotiation",
            "Delivered",
            "On Hold",
            "Confirmed",
            "Closed Won",
            "Closed Lost",
        ],
    ),
    z("Valid_Till", "Valid Till", T::Date),
    lookup("Account_Name", "Account Name", "Accounts", true),
    lookup("Contact_Name", "Contact Name", "Contacts", false),
    z("Carrier", "Carrier", T::Picklist),
    z("Terms_and_Conditions", "Terms and Conditions", T::TextArea),
    z("Description", "Description", T::TextArea),
    zro("Sub_Total", "Sub Total", T::Currency),
    zro("Grand_Total", "Grand Total", T::Currency),
];

const SALES_ORDERS: &[ZohoSpec] = &[
    zreq("Subject", "Subject", T::Text),
    zro("SO_Number", "SO Number", T::Text),
    pick(
        "Status",
        "Status",
        &["Created", "Approved", "Delivered", "Cancelled"],
    ),
    z("Due_Date", "Due Date", T::Date),
    lookup("Account_Name", "Account Name", "Accounts", true),
    lookup("Contact_Name", "Contact Name", "Contacts", false),
    z("Customer_No", "Customer No", T::Text),
    z("Purchase_Order", "Purchase Order", T::Text),
    z("Carrier", "Carrier", T::Picklist),
    z("Terms_and_Conditions", "Terms and Conditions", T::TextArea),
    z("Description", "Description", T::TextArea),
    zro("Grand_Total", "Grand Total", T::Currency),
];

const INVOICES: &[ZohoSpec] = &[
    zreq("Subject", "Subject", T::Text),
    zro("Invoice_Number", "Invoice Number", T::Text),
    z("Invoice_Date", "Invoice Date", T::Date),
    z("Due_Date", "Due Date", T::Date),
    pick(
        "Status",
        "Status",
        &["Created", "Approved", "Delivered", "Cancelled"],
    ),
    lookup("Account_Name", "Account Name", "Accounts", true),
    lookup("Contact_Name", "Contact Name", "Contacts", false),
    lookup("Sales_Order", "Sales Order", "Sales_Orders", false),
    z("Terms_and_Conditions", "Terms and Conditions", T::TextArea),
    z("Description", "Description", T::TextArea),
    zro("Grand_Total", "Grand Total", T::Currency),
];

const VENDORS: &[ZohoSpec] = &[
    zreq("Vendor_Name", "Vendor Name", T::Text),
    z("Email", "Email", T::Email),
    z("Phone", "Phone", T::Phone),
    z("Website", "Website", T::Url),
    z("GL_Account", "GL Account", T::Picklist),
    z("Category", "Category", T::Text),
    z("Street", "Street", T::Text),
    z("City", "City", T::Text),
    z("State", "State", T::Text),
    z("Zip_Code", "Zip Code", T::Text),
    z("Country", "Country", T::Text),
    z("Description", "Description", T::TextArea),
];

const PURCHASE_ORDERS: &[ZohoSpec] = &[
    zreq("Subject", "Subject", T::Text),
    z("PO_Number", "PO Number", T::Text),
    z("PO_Date", "PO Date", T::Date),
    z("Due_Date", "Due Date", T::Date),
    pick(
        "Status",
        "Status",
        &["Created", "Approved", "Delivered", "Cancelled"],
    ),
    lookup("Vendor_Name", "Vendor Name", "Vendors", true),
    lookup("Contact_Name", "Contact Name", "Contacts", false),
    z("Tracking_Number", "Tracking Number", T::Text),
    z("Requisition_No", "Requisition No", T::Text),
    z("Carrier", "Carrier", T::Picklist),
    z("Terms_and_Conditions", "Terms and Conditions", T::TextArea),
    z("Description", "Description", T::TextArea),
    zro("Grand_Total", "Grand Total", T::Currency),
];

fn zoho_field_from_spec(spec: &ZohoSpec) -> ZohoField {
    let (api_name, label, data_type, required, read_only, lookup_module, values) = *spec;
    ZohoField {
        api_name: api_name.to_owned(),
        label: label.to_owned(),
        data_type,
        source: FieldSource::Standard,
        required,
        read_only,
        picklist_values: values.iter().map(|v| (*v).to_owned()).collect(),
        lookup_module: lookup_module.map(str::to_owned),
    }
}

/// Zoho standard fields of `module` known without asking Zoho: those the default
/// mappings and filters use. "Sync Mappable Fields" replaces them with the org's
/// real metadata (which also carries picklist values and custom fields).
pub fn zoho_standard_fields(module: ZohoModule) -> Vec<ZohoField> {
    let parts: Vec<&[ZohoSpec]> = match module {
        ZohoModule::Accounts => vec![ACCOUNTS, BILLING_SHIPPING],
        ZohoModule::Contacts => vec![CONTACTS],
        ZohoModule::Products => vec![PRODUCTS],
        ZohoModule::Quotes => vec![QUOTES, BILLING_SHIPPING],
        ZohoModule::SalesOrders => vec![SALES_ORDERS, BILLING_SHIPPING],
        ZohoModule::Invoices => vec![INVOICES, BILLING_SHIPPING],
        ZohoModule::Vendors => vec![VENDORS],
        ZohoModule::PurchaseOrders => vec![PURCHASE_ORDERS, BILLING_SHIPPING],
    };
    parts
        .into_iter()
        .flat_map(|part| part.iter().map(zoho_field_from_spec))
        .collect()
}
