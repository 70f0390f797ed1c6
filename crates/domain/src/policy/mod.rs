//! Policy documents: parsing and validation of AWS's policy grammar.
