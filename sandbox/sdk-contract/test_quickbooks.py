"""python-quickbooks (the community QBO SDK that Intuit's docs list) against the simulated QBO:
its query forms, reads, creates, full and sparse updates, errors as its exceptions, batch, CDC,
delete, void, CompanyInfo and Preferences."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from quickbooks.batch import batch_create, batch_delete, batch_update
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import ObjectNotFoundException, QuickbooksException, UnsupportedException
from quickbooks.objects.base import Ref
from quickbooks.objects.company_info import CompanyInfo
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import (
    ItemBasedExpenseLine,
    ItemBasedExpenseLineDetail,
    SalesItemLine,
    SalesItemLineDetail,
)
from quickbooks.objects.estimate import Estimate
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.payment import Payment, PaymentLine
from quickbooks.objects.account import Account
from quickbooks.objects.base import LinkedTxn
from quickbooks.objects.bill import Bill
from quickbooks.objects.billpayment import BillPayment, BillPaymentLine, CheckPayment
from quickbooks.objects.preferences import Preferences
from quickbooks.objects.purchaseorder import PurchaseOrder
from quickbooks.objects.salesreceipt import SalesReceipt
from quickbooks.objects.vendor import Vendor

from conftest import REALM_ID


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def new_customer(qb, name=None) -> Customer:
    customer = Customer()
    customer.DisplayName = name or unique("SDK Customer")
    customer.GivenName = "Ada"
    customer.FamilyName = "Lovelace"
    return customer.save(qb=qb)


def service_item(qb) -> Item:
    return Item.filter(Type="Service", qb=qb, max_results=1)[0]


def sales_line(qb, amount: float) -> SalesItemLine:
    line = SalesItemLine()
    line.Amount = amount
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = service_item(qb).to_ref()
    return line


def new_sales_form(qb, cls, customer: Customer, amount: float):
    """An Invoice, Estimate or SalesReceipt for `customer` with one line of `amount`."""
    form = cls()
    form.CustomerRef = customer.to_ref()
    form.Line = [sales_line(qb, amount)]
    return form.save(qb=qb)


def new_invoice(qb, customer: Customer, amount=120.0) -> Invoice:
    return new_sales_form(qb, Invoice, customer, amount)


def new_payment(qb, customer: Customer, invoice: Invoice, amount: float) -> Payment:
    link = LinkedTxn()
    link.TxnId = invoice.Id
    link.TxnType = "Invoice"
    line = PaymentLine()
    line.Amount = amount
    line.LinkedTxn = [link]
    payment = Payment()
    payment.CustomerRef = customer.to_ref()
    payment.TotalAmt = amount
    payment.Line = [line]
    return payment.save(qb=qb)


# ------------------------------------------------------------------ query forms


def test_all_pages_with_start_position_and_max_results(qb):
    for _ in range(3):
        new_customer(qb)
    everyone = Customer.all(max_results=1000, qb=qb)
    assert len(everyone) >= 3
    first_two = Customer.all(start_position=1, max_results=2, qb=qb)
    next_two = Customer.all(start_position=3, max_results=2, qb=qb)
    assert [c.Id for c in first_two + next_two] == [c.Id for c in everyone[:4]]
    assert Customer.all(start_position=len(everyone) + 1, max_results=10, qb=qb) == []
    assert Customer.count(qb=qb) == len(everyone)


def test_all_with_order_by(qb):
    ordered = Customer.all(order_by="DisplayName DESC", max_results=1000, qb=qb)
    names = [c.DisplayName for c in ordered]
    assert names == sorted(names, reverse=True)


def test_all_items_asks_for_their_sku(qb):
    items = Item.all(max_results=1000, qb=qb)
    assert items and all(isinstance(item, Item) for item in items)


def test_filter_where_and_query(qb):
    customer = new_customer(qb, unique("Filter O'Brien"))
    found = Customer.filter(DisplayName=customer.DisplayName, qb=qb)
    assert [c.Id for c in found] == [customer.Id]
    found = Customer.where(f"Id = '{customer.Id}'", qb=qb)
    assert [c.DisplayName for c in found] == [customer.DisplayName]
    found = Customer.where("DisplayName LIKE 'Filter O%'", order_by="Id", max_results=5, qb=qb)
    assert customer.Id in [c.Id for c in found]
    found = Customer.query(f"SELECT * FROM Customer WHERE Id IN ('{customer.Id}', '0')", qb=qb)
    assert [c.Id for c in found] == [customer.Id]
    found = Customer.choose([customer.Id], qb=qb)
    assert [c.Id for c in found] == [customer.Id]
    assert Customer.count(f"Id = '{customer.Id}'", qb=qb) == 1


def test_a_bad_query_is_a_validation_exception_4001(qb):
    with pytest.raises(QuickbooksException) as raised:
        Customer.query("SELECT * FROM Custmoer", qb=qb)
    assert raised.value.error_code == 4001


# ------------------------------------------------------------------ reads and writes


def test_get_and_missing_object(qb):
    customer = new_customer(qb)
    read = Customer.get(customer.Id, qb=qb)
    assert (read.DisplayName, read.SyncToken) == (customer.DisplayName, "0")
    with pytest.raises(ObjectNotFoundException) as missing:
        Customer.get("987654321", qb=qb)
    assert missing.value.error_code == 610


def test_customer_full_and_sparse_update(qb):
    customer = new_customer(qb)
    customer.CompanyName = "Analytical Engines"
    customer.Notes = "full update"
    updated = customer.save(qb=qb)
    assert (updated.SyncToken, updated.CompanyName, updated.Notes) == ("1", "Analytical Engines", "full update")

    # The SDK's sparse update: a read object with `sparse` set (a fresh Customer() would send
    # its defaults, DisplayName "" among them).
    sparse = Customer.get(updated.Id, qb=qb)
    sparse.sparse = True
    sparse.Notes = "sparse update"
    sparse_updated = sparse.save(qb=qb)
    assert sparse_updated.SyncToken == "2"
    assert sparse_updated.Notes == "sparse update"
    assert sparse_updated.CompanyName == "Analytical Engines", "a sparse update keeps what it does not name"


def test_stale_sync_token_is_5010(qb):
    customer = new_customer(qb)
    stale = Customer.get(customer.Id, qb=qb)
    customer.Notes = "first writer"
    customer.save(qb=qb)
    stale.Notes = "second writer"
    with pytest.raises(QuickbooksException) as raised:
        stale.save(qb=qb)
    assert raised.value.error_code == 5010
    assert "Stale Object Error" in raised.value.message


def test_duplicate_name_is_6240(qb):
    customer = new_customer(qb)
    with pytest.raises(QuickbooksException) as raised:
        new_customer(qb, customer.DisplayName)
    assert raised.value.error_code == 6240
    assert raised.value.message == "Duplicate Name Exists Error"


def test_item_create_full_and_sparse_update(qb):
    income = [a for a in qb.query("SELECT * FROM Account WHERE AccountType = 'Income'")["QueryResponse"]["Account"]]
    item = Item()
    item.Name = unique("SDK Service")
    item.Type = "Service"
    item.UnitPrice = 45
    item.IncomeAccountRef = Ref()
    item.IncomeAccountRef.value = income[0]["Id"]
    created = item.save(qb=qb)
    assert (created.Type, created.UnitPrice, created.SyncToken) == ("Service", 45, "0")
    created.UnitPrice = 50
    updated = created.save(qb=qb)
    assert (updated.UnitPrice, updated.SyncToken) == (50, "1")
    sparse = Item.get(updated.Id, qb=qb)
    sparse.sparse = True
    sparse.Description = "by the hour"
    sparse_updated = sparse.save(qb=qb)
    assert (sparse_updated.Description, sparse_updated.UnitPrice) == ("by the hour", 50)


def test_invoice_create_update_delete_and_void(qb):
    customer = new_customer(qb)
    invoice = new_invoice(qb, customer, 120.0)
    assert (invoice.TotalAmt, invoice.Balance) == (120.0, 120.0)
    # The SDK sends TxnDate, DueDate and DocNumber as "" on a new invoice: QBO fills them.
    assert datetime.strptime(invoice.TxnDate, "%Y-%m-%d") <= datetime.strptime(invoice.DueDate, "%Y-%m-%d")
    assert invoice.DocNumber
    assert invoice.CustomerRef.value == customer.Id
    invoice.PrivateNote = "full update"
    updated = invoice.save(qb=qb)
    assert (updated.SyncToken, updated.PrivateNote, updated.TotalAmt) == ("1", "full update", 120.0)

    updated.void(qb=qb)
    voided = Invoice.get(invoice.Id, qb=qb)
    assert (voided.TotalAmt, voided.Balance) == (0, 0)
    assert voided.PrivateNote.startswith("Voided")

    doomed = new_invoice(qb, customer, 10.0)
    doomed.delete(qb=qb)
    with pytest.raises(ObjectNotFoundException):
        Invoice.get(doomed.Id, qb=qb)


def test_payment_lowers_the_invoice_balance_and_its_void_restores_it(qb):
    customer = new_customer(qb)
    invoice = new_invoice(qb, customer, 200.0)
    payment = new_payment(qb, customer, invoice, 75.0)
    assert (payment.TotalAmt, payment.UnappliedAmt) == (75.0, 0)
    assert Invoice.get(invoice.Id, qb=qb).Balance == 125.0

    sparse = Payment.get(payment.Id, qb=qb)
    sparse.sparse = True
    sparse.PrivateNote = "paid by check"
    noted = sparse.save(qb=qb)
    assert (noted.PrivateNote, noted.TotalAmt, noted.SyncToken) == ("paid by check", 75.0, "1")

    # python-quickbooks voids a Payment with a sparse update and include=void (VoidMixin).
    noted.void(qb=qb)
    voided = Payment.get(payment.Id, qb=qb)
    assert voided.TotalAmt == 0
    assert voided.PrivateNote == "Voided paid by check"
    assert Invoice.get(invoice.Id, qb=qb).Balance == 200.0


def test_payment_void_by_operation_void_is_refused(qb):
    """What `?operation=void` answers for a Payment: the SDK's exception for Fault 500."""
    customer = new_customer(qb)
    invoice = new_invoice(qb, customer, 30.0)
    payment = new_payment(qb, customer, invoice, 30.0)
    url = f"{qb.api_url}/company/{qb.company_id}/payment"
    with pytest.raises(UnsupportedException) as raised:
        qb.post(url, f'{{"Id": "{payment.Id}", "SyncToken": "0"}}', params={"operation": "void"})
    assert raised.value.error_code == 500
    assert raised.value.detail == "Operation void is not supported."
    assert Invoice.get(invoice.Id, qb=qb).Balance == 0


def test_payment_delete(qb):
    customer = new_customer(qb)
    invoice = new_invoice(qb, customer, 40.0)
    payment = new_payment(qb, customer, invoice, 40.0)
    payment.delete(qb=qb)
    with pytest.raises(ObjectNotFoundException):
        Payment.get(payment.Id, qb=qb)
    assert Invoice.get(invoice.Id, qb=qb).Balance == 40.0


def test_estimate_and_sales_receipt_create_update_and_void(qb):
    customer = new_customer(qb)
    estimate = new_sales_form(qb, Estimate, customer, 80.0)
    assert (estimate.TotalAmt, estimate.CustomerRef.value) == (80.0, customer.Id)
    estimate.PrivateNote = "quoted"
    assert estimate.save(qb=qb).SyncToken == "1"

    receipt = new_sales_form(qb, SalesReceipt, customer, 25.0)
    assert (receipt.TotalAmt, receipt.Balance) == (25.0, 0)
    assert receipt.TxnDate and receipt.DocNumber
    receipt.PrivateNote = "cash"
    receipt = receipt.save(qb=qb)
    # python-quickbooks voids a SalesReceipt with a sparse update and include=void (VoidMixin).
    receipt.void(qb=qb)
    voided = SalesReceipt.get(receipt.Id, qb=qb)
    assert (voided.TotalAmt, voided.PrivateNote) == (0, "Voided cash")


def test_vendor_and_purchase_order_create_and_update(qb):
    vendor = Vendor()
    vendor.DisplayName = unique("SDK Vendor")
    vendor.CompanyName = "Parts and Pieces"
    vendor = vendor.save(qb=qb)
    assert vendor.SyncToken == "0"
    vendor.CompanyName = "Parts & Pieces"
    assert vendor.save(qb=qb).CompanyName == "Parts & Pieces"

    line = ItemBasedExpenseLine()
    line.Amount = 90.0
    line.ItemBasedExpenseLineDetail = ItemBasedExpenseLineDetail()
    line.ItemBasedExpenseLineDetail.ItemRef = service_item(qb).to_ref()
    line.ItemBasedExpenseLineDetail.Qty = 3
    line.ItemBasedExpenseLineDetail.UnitPrice = 30
    order = PurchaseOrder()
    order.VendorRef = vendor.to_ref()
    order.Line = [line]
    order = order.save(qb=qb)
    assert (order.TotalAmt, order.POStatus, order.VendorRef.value) == (90.0, "Open", vendor.Id)
    order.Memo = "rush"
    assert order.save(qb=qb).SyncToken == "1"


def test_a_missing_reference_is_2500(qb):
    customer = Customer()
    customer.Id = "987654321"
    invoice = Invoice()
    invoice.CustomerRef = customer.to_ref()
    invoice.Line = [sales_line(qb, 5.0)]
    with pytest.raises(QuickbooksException) as raised:
        invoice.save(qb=qb)
    assert raised.value.error_code == 2500


def test_request_id_makes_a_create_idempotent(qb):
    request_id = uuid.uuid4().hex
    customer = Customer()
    customer.DisplayName = unique("Idempotent")
    first = customer.save(qb=qb, request_id=request_id)
    again = Customer()
    again.DisplayName = customer.DisplayName
    second = again.save(qb=qb, request_id=request_id)
    assert first.Id == second.Id
    assert Customer.count(f"DisplayName = '{customer.DisplayName}'", qb=qb) == 1


def test_an_update_of_a_paid_invoice_keeps_what_was_paid(qb):
    customer = new_customer(qb)
    invoice = new_invoice(qb, customer, 100.0)
    new_payment(qb, customer, invoice, 40.0)
    paid = Invoice.get(invoice.Id, qb=qb)
    assert paid.Balance == 60.0
    paid.PrivateNote = "full update of a part-paid invoice"
    assert paid.save(qb=qb).Balance == 60.0


def new_vendor(qb) -> Vendor:
    vendor = Vendor()
    vendor.DisplayName = unique("SDK Supplier")
    return vendor.save(qb=qb)


def expense_line(qb, amount: float) -> ItemBasedExpenseLine:
    line = ItemBasedExpenseLine()
    line.Amount = amount
    line.ItemBasedExpenseLineDetail = ItemBasedExpenseLineDetail()
    line.ItemBasedExpenseLineDetail.ItemRef = service_item(qb).to_ref()
    return line


def test_bill_payment_by_check_and_its_void(qb):
    vendor = new_vendor(qb)
    bill = Bill()
    bill.VendorRef = vendor.to_ref()
    bill.Line = [expense_line(qb, 300.0)]
    bill = bill.save(qb=qb)
    assert (bill.TotalAmt, bill.Balance) == (300.0, 300.0)
    assert bill.TxnDate and bill.DueDate

    bank = Account()
    bank.Name = unique("Checking")
    bank.AccountType = "Bank"
    bank = bank.save(qb=qb)
    link = LinkedTxn()
    link.TxnId, link.TxnType = bill.Id, "Bill"
    line = BillPaymentLine()
    line.Amount = 120.0
    line.LinkedTxn = [link]
    payment = BillPayment()
    payment.VendorRef = vendor.to_ref()
    payment.PayType = "Check"
    payment.CheckPayment = CheckPayment()
    payment.CheckPayment.BankAccountRef = bank.to_ref()
    payment.TotalAmt = 120.0
    payment.Line = [line]
    payment = payment.save(qb=qb)
    assert Bill.get(bill.Id, qb=qb).Balance == 180.0

    # python-quickbooks voids a BillPayment with a sparse update and include=void (VoidMixin).
    payment.void(qb=qb)
    voided = BillPayment.get(payment.Id, qb=qb)
    assert (voided.TotalAmt, voided.Line, voided.PrivateNote) == (0, [], "Voided")
    assert Bill.get(bill.Id, qb=qb).Balance == 300.0


# ------------------------------------------------------------------ batch and CDC


def test_batch_create_and_update_report_each_item(qb):
    taken = new_customer(qb)
    fresh = [Customer(), Customer()]
    fresh[0].DisplayName = unique("Batch One")
    fresh[1].DisplayName = taken.DisplayName  # a duplicate name: that item fails alone
    created = batch_create(fresh, qb=qb)
    assert [c.DisplayName for c in created.successes] == [fresh[0].DisplayName]
    assert len(created.faults) == 1
    assert created.faults[0].Error[0].code == "6240"

    customer = created.successes[0]
    customer.Notes = "batch update"
    updated = batch_update([customer], qb=qb)
    assert [(c.Notes, c.SyncToken) for c in updated.successes] == [("batch update", "1")]


def test_batch_delete_of_transactions(qb):
    customer = new_customer(qb)
    invoices = [new_invoice(qb, customer, 5.0), new_invoice(qb, customer, 6.0)]
    deleted = batch_delete(invoices, qb=qb)
    assert deleted.faults == []
    for invoice in invoices:
        with pytest.raises(ObjectNotFoundException):
            Invoice.get(invoice.Id, qb=qb)


def test_change_data_capture(qb):
    # The SDK formats the time without an offset (the company's zone); a day back covers any zone.
    since = datetime.now(timezone.utc) - timedelta(days=1)
    customer = new_customer(qb)
    invoice = new_invoice(qb, customer, 15.0)
    changes = change_data_capture([Customer, Invoice], since, qb=qb)
    assert customer.Id in [c.Id for c in changes.Customer]
    assert invoice.Id in [i.Id for i in changes.Invoice]


# ------------------------------------------------------------------ company


def test_company_info_and_preferences(qb):
    company = CompanyInfo.get(REALM_ID, qb=qb)
    assert company.CompanyName
    preferences = Preferences.get(qb=qb)
    # SalesFormsPrefs.CustomField stays plain JSON in the SDK (it is in no class_dict/list_dict).
    names = [
        field["StringValue"]
        for group in preferences.SalesFormsPrefs.CustomField
        for field in group["CustomField"]
        if field["Type"] == "StringType"
    ]
    assert "Crew #" in names


def test_payment_lines_are_replaced_all_or_none(qb):
    """Payment.Line is replaced whole by an update (the SDK's Payment docstring, from Intuit's):
    an empty Line unlinks the payment, and the invoice is owed again."""
    customer = new_customer(qb)
    invoice = new_invoice(qb, customer, 60.0)
    payment = new_payment(qb, customer, invoice, 60.0)
    assert Invoice.get(invoice.Id, qb=qb).Balance == 0
    unlinked = Payment.get(payment.Id, qb=qb)
    unlinked.sparse = True
    unlinked.Line = []
    unlinked = unlinked.save(qb=qb)
    assert (unlinked.Line, unlinked.UnappliedAmt) == ([], 60.0)
    assert Invoice.get(invoice.Id, qb=qb).Balance == 60.0
