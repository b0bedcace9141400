-- account_amazon_refund: a database copy must not reach the sellers' Amazon accounts
UPDATE amazon_sp_account
   SET lwa_client_secret = NULL,
       refresh_token = NULL,
       state = 'draft';
