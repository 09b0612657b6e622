# Independent derivation of the token known answers (stdlib + cryptography).
import hmac, hashlib, base64
from cryptography.hazmat.primitives.asymmetric import x25519, ed25519
from cryptography.hazmat.primitives import serialization as S
CHARSET="qpzry9x8gf2tvdw0s3jn54khce6mua7l"
def polymod(values):
    GEN=[0x3b6a57b2,0x26508e6d,0x1ea119fa,0x3d4233dd,0x2a1462b3]; chk=1
    for v in values:
        b=chk>>25; chk=(chk&0x1ffffff)<<5^v
        for i in range(5): chk^=GEN[i] if ((b>>i)&1) else 0
    return chk
def hrp_expand(h): return [ord(x)>>5 for x in h]+[0]+[ord(x)&31 for x in h]
def convertbits(data,f,t):
    acc=0;bits=0;ret=[];maxv=(1<<t)-1
    for v in data:
        acc=(acc<<f)|v;bits+=f
        while bits>=t: bits-=t;ret.append((acc>>bits)&maxv)
    if bits: ret.append((acc<<(t-bits))&maxv)
    return ret
def bech32_encode(hrp,data,const):
    d=convertbits(data,8,5); v=hrp_expand(hrp)+d
    pm=polymod(v+[0]*6)^const
    return hrp+"1"+"".join(CHARSET[x] for x in d+[(pm>>5*(5-i))&31 for i in range(6)])
def hkdf(ikm,info,n=32):
    prk=hmac.new(b"\0"*32,ikm,hashlib.sha256).digest()
    return hmac.new(prk,info+b"\x01",hashlib.sha256).digest()[:n]
tok=b"sotto test token"
s=bech32_encode("sotto-token-v1",tok,0x2bc830a3)[len("sotto-token-v1")+1:]
print("display", "-".join(s[i:i+4] for i in range(0,32,4)))
print("handle", base64.urlsafe_b64encode(hkdf(tok,b"sotto/v1/token/handle")).rstrip(b"=").decode())
xs=x25519.X25519PrivateKey.from_private_bytes(hkdf(tok,b"sotto/v1/token/x25519"))
xp=xs.public_key().public_bytes(S.Encoding.Raw,S.PublicFormat.Raw)
print("recipient", bech32_encode("age",xp,1))
es=ed25519.Ed25519PrivateKey.from_private_bytes(hkdf(tok,b"sotto/v1/token/ed25519"))
print("ed25519", base64.urlsafe_b64encode(es.public_key().public_bytes(S.Encoding.Raw,S.PublicFormat.Raw)).rstrip(b"=").decode())
