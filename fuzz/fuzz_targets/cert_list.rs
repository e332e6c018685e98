#![no_main]
//! Certificate lists (Cert Graveyard, XingTuLab, LOLCerts headers: the first
//! byte picks one) and YARA rule files.
use libfuzzer_sys::fuzz_target;

const HEADERS: [&str; 3] = [
    "Hash,Malware,Malware Type,Malware Notes,Signer,Issuer Short,Issuer,Serial,Thumbprint,Valid From,Valid To,Country,State,Locality,Email,RDN Serial Number,TBS MD5,TBS SHA1,TBS SHA256,TBS SHA384\n",
    "Cert MD5,Serial,Subject,Issuer,Country,Valid From,Valid To,Sample,Abuse Type\n",
    "name,status,source,description,references,date,author,issuer,timestamp,serial\n",
];

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    if first % 4 == 3 {
        cairn_fuzz::intake("rules.yar", rest, cairn_intake::Format::Yara);
        return;
    }
    let mut text = HEADERS[usize::from(first % 4)].as_bytes().to_vec();
    text.extend_from_slice(rest);
    cairn_fuzz::intake("certs.csv", &text, cairn_intake::Format::CertList);
});
